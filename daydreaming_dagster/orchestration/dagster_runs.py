"""Dagster runs as the ``daydreaming`` command makes them: the project's instance, in-process
runs of an asset selection, partition ranges, and runs left behind by a killed process.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from dagster import (
    AssetKey,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    ExecuteInProcessResult,
    RunsFilter,
    define_asset_job,
)

from ..assets.generation_watch import PID_TAG, run_process_alive
from ..definitions import JOB_SELECTIONS
from ..instance.refs import instance_without_compute_logs
from ..instance.run_outputs import drop_outputs
from ..records.postgres_url import POSTGRES_URL_ENV, PostgresUrlError, postgres_url, redacted

# The command prints what matters itself; Dagster's own console lines (and its stack traces of
# failed steps) stay in the instance's event log, where the UI shows them.
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
INVOCATION_TAG = "daydreaming/invocation"
STAGES = {
    "generation": (["generation_prompt", "generation_response"], "generation_tasks"),
    "evaluation": (["evaluation_prompt", "evaluation_response"], "evaluation_tasks"),
}
# A selection that is none of the named jobs (tests, one-off tools) still runs under a name.
OTHER_JOB = "selected_assets"


class ConfigurationError(Exception):
    """The command cannot start as configured; the message says what to set."""


def use_project_instance(dagster_home: str) -> Path:
    """Point DAGSTER_HOME at the project's instance unless the user chose another one; a
    DAGSTER_HOME of the user's without a dagster.yaml gets the project's (so that ``dagster dev``
    and ``dagster asset materialize`` there use the same storage as this command)."""
    current = os.environ.get("DAGSTER_HOME")
    template = Path(dagster_home) / "dagster.yaml"
    if current:
        if not Path(current).expanduser().is_absolute():
            raise ConfigurationError(
                f"DAGSTER_HOME={current!r} is not an absolute path; Dagster requires one. "
                "Unset it to use ./dagster_home, or set it to an absolute path."
            )
        home = Path(current).expanduser()
    else:
        home = Path(dagster_home).resolve()
        os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists() and template.exists():
        shutil.copyfile(template, home / "dagster.yaml")
    return home


def open_instance() -> DagsterInstance:
    """The instance at DAGSTER_HOME (see ``use_project_instance``), as this command uses it:
    the runs it executes in-process print to the terminal themselves, so they do not also
    capture stdout/stderr into compute-log files (four helper processes per step).

    With DAYDREAMING_POSTGRES_URL set, a database that cannot be reached, or a dagster.yaml that
    chose other storage, stops the command with a message instead of a traceback."""
    try:
        url = postgres_url()
    except PostgresUrlError as exc:
        raise ConfigurationError(str(exc)) from None
    try:
        instance = instance_without_compute_logs(os.environ["DAGSTER_HOME"])
        if url:
            instance.get_runs(limit=1)  # connects now, so a bad URL fails here, clearly
    except Exception as exc:
        if not url:
            raise
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise ConfigurationError(
            f"Cannot use the PostgreSQL database {redacted(url)} ({POSTGRES_URL_ENV}): {reason}. "
            "Check that the server runs and the database exists, or unset the variable to use "
            "SQLite under DAGSTER_HOME."
        ) from None
    if url and "postgres" not in type(instance.run_storage).__module__:
        instance.dispose()
        raise ConfigurationError(
            f"{POSTGRES_URL_ENV} is set, but {os.environ['DAGSTER_HOME']}/dagster.yaml chooses "
            "its own storage. Use the project's dagster_home/dagster.yaml there, or unset it."
        )
    return instance


def partition_range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """Run tags that make one run cover every partition from ``first_key`` to ``last_key``."""
    return {
        "dagster/asset_partition_range_start": first_key,
        "dagster/asset_partition_range_end": last_key,
    }


def job_name_for(defs: Definitions, selection: list[str]) -> str:
    """The named job (see definitions.JOB_SELECTIONS) whose assets are exactly ``selection``."""
    graph = defs.resolve_asset_graph()
    wanted = {AssetKey.from_user_string(name) for name in selection}
    for name, chosen in JOB_SELECTIONS.items():
        if chosen.resolve(graph) == wanted:
            return name
    return OTHER_JOB


def materialize_selection(
    defs: Definitions,
    instance: DagsterInstance,
    selection: list[str],
    tags: dict[str, str] | None = None,
    resources: dict | None = None,
    partition_key: str | None = None,
    raise_on_error: bool = False,
    job_name: str | None = None,
) -> ExecuteInProcessResult:
    """One in-process run of ``selection`` (with its asset checks) on ``instance``, as a run of
    the named job that selects exactly these assets (``setup``, ``generate``, ``judge``,
    ``summarise``, ``calibrate``), so the UI's Runs page says what it did; failures are
    returned, unless ``raise_on_error``. The result keeps the run's events but not its outputs
    (see instance.run_outputs): every output is in its IO manager's file.

    The run executes in a thread of its own, so Dagster leaves this process's Ctrl-C handling
    alone: the command's handler asks the run to stop starting calls (see llm_calls.interrupt),
    and the run winds down and reports instead of dying with a traceback.
    """
    outcome: dict = {}
    name = job_name or job_name_for(defs, selection)

    def execute() -> None:
        try:
            # What dagster.materialize does, with a job name of ours instead of its
            # "__ephemeral_asset_job__".
            run_defs = Definitions(
                assets=defs.assets,
                asset_checks=defs.asset_checks,
                jobs=[define_asset_job(name, selection=selection)],
                resources=resources or defs.resources,
            )
            outcome["result"] = run_defs.resolve_job_def(name).execute_in_process(
                run_config=QUIET_LOGS,
                instance=instance,
                partition_key=partition_key,
                raise_on_error=raise_on_error,
                tags={PID_TAG: str(os.getpid()), **(tags or {})},
            )
        except BaseException as exc:  # handed to the calling thread below
            outcome["error"] = exc

    worker = threading.Thread(target=execute, name="dagster-run")
    worker.start()
    while worker.is_alive():
        worker.join(0.1)  # short waits: the main thread stays free to handle signals
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    drop_outputs(result)  # never read back (the IO managers' files hold them), and kept alive
    return result


def fail_orphaned_runs(instance: DagsterInstance) -> int:
    """Mark runs of a killed ``daydreaming`` process as failed, so the UI tells the truth."""
    orphaned = 0
    runs = instance.get_runs(
        filters=RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING])
    )
    for run in runs:
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and int(pid) != os.getpid() and not run_process_alive(run):
            instance.report_run_failed(
                run, message=f"The daydreaming process (pid {pid}) ended while this run was going."
            )
            orphaned += 1
    return orphaned


def ordered_keys(instance: DagsterInstance, stage: str, keys: list[str]) -> list[str]:
    """``keys`` in the order their partitions were registered (the order of a partition range);
    raises ValueError for a key that is not registered."""
    order = instance.get_dynamic_partitions(STAGES[stage][1])
    position = {key: i for i, key in enumerate(order)}
    unknown = [k for k in keys if k not in position]
    if unknown:
        raise ValueError(f"{unknown[0]} is not a registered partition")
    return sorted(keys, key=position.__getitem__)
