"""Opening the project's instance with one storage setting changed (private Dagster API).

Every private Dagster symbol the project uses lives in this folder, each with a test that fails
loudly when an upgrade moves it (see test_private_api.py).
"""

from __future__ import annotations

from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

NO_COMPUTE_LOGS = {
    "compute_logs": {
        "module": "dagster._core.storage.noop_compute_log_manager",
        "class": "NoOpComputeLogManager",
    }
}

# The coordinator that launches a run at once, with no daemon (the UI test's instance uses it).
DEFAULT_RUN_COORDINATOR = {
    "module": "dagster._core.run_coordinator",
    "class": "DefaultRunCoordinator",
}


def instance_without_compute_logs(dagster_home: str) -> DagsterInstance:
    """The instance at ``dagster_home``, with compute-log capture switched off for the runs this
    process executes (structured logs, events and metadata are unchanged)."""
    return DagsterInstance.from_ref(InstanceRef.from_dir(dagster_home, overrides=NO_COMPUTE_LOGS))
