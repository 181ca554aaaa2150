"""``daydreaming run --workers N``: the pending work as runs on Dagster's own engine, N at a time
per stage.

The pending generation keys are cut into contiguous partition ranges, and so are the pending
evaluation keys: at least N ranges per stage, and none over the command's run size
(``DAYDREAMING_RUN_PARTITIONS``, 2,000 by default), since a run holds every event of its step
until it ends. Each range becomes one run of the ``generate`` or ``judge`` job, submitted to the
instance's run coordinator (Dagster's run queue by default) and started by its run launcher (a
local process by default; a container with Dagster's Docker or Kubernetes launchers). Each run
is tagged with one of N lanes per stage, and the project's ``dagster.yaml`` lets the queue start
one run per lane at a time (``tag_concurrency_limits``), so N runs per stage work at once
whatever the experiment's size. All are submitted at once: a judging run's evaluations wait for
generations that a queued or running generation run has planned (see assets.generation_watch),
so judging overlaps generation as in a single-process run. The per-model limits hold across the
runs: call slots and request pacing are shared by every process (see llm_calls.slots,
llm_calls.pacing), through the database when the instance is on PostgreSQL.

The queue needs Dagster's daemon. ``dagster dev`` runs one; without one this command starts
``dagster-daemon run`` for its own runs and stops it when they are over.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus

from ..assets.generation_watch import WORKER_TAG
from ..instance.run_launch import RunRequestSpec, code_location
from ..llm_calls.interrupt import stop_requested
from .dagster_runs import INVOCATION_TAG, partition_range_tags
from .options import RunOptions
from .run_reports import INTERRUPTED, StageReport, tallied_report

DEFINITIONS_MODULE = "daydreaming_dagster.definitions"
JOB_OF_STAGE = {"generation": "generate", "evaluation": "judge"}
# The queue starts one run per value of this tag at a time (dagster.yaml's run coordinator).
LANE_TAG = "daydreaming/lane"
POLL_S = 0.5
DAEMON_FRESH_S = 60.0  # a daemon heartbeat younger than this means a daemon is running
QUEUED_PATIENCE_S = 20.0  # runs still queued after this long: start a daemon after all
# Starts a program that gets SIGTERM when this command dies, however it dies (Linux's parent-death
# signal, kept across exec), so a killed command leaves no daemon behind.
EXEC_TIED_TO_PARENT = (
    "import ctypes, os, signal, sys\n"
    "try: ctypes.CDLL(None).prctl(1, signal.SIGTERM)\n"
    "except (AttributeError, OSError): pass\n"
    "os.execvp(sys.argv[1], sys.argv[1:])"
)


@dataclass
class WorkerRun:
    stage: str
    run_id: str
    keys: int


def split_ranges(keys: list[str], workers: int) -> list[list[str]]:
    """``keys`` (in registration order) cut into at most ``workers`` contiguous, near-equal
    parts; no part is empty."""
    if not keys:
        return []
    parts = min(workers, len(keys))
    size, extra = divmod(len(keys), parts)
    out, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        out.append(keys[start:end])
        start = end
    return out


def worker_ranges(keys: list[str], workers: int, run_partitions: int) -> list[list[str]]:
    """``keys`` cut into at least ``workers`` contiguous ranges, none over ``run_partitions``."""
    return split_ranges(keys, max(workers, -(-len(keys) // run_partitions)))


def lane_of(invocation: str, stage: str, number: int, workers: int) -> str:
    """The lane of the ``number``-th range (from 1): ranges take the lanes in turn, so each lane
    works through its ranges in order, one run at a time."""
    return f"{invocation}-{stage}-{(number - 1) % workers + 1}"


def run_config(options: RunOptions, ledger: Path | None) -> dict:
    """Resources as this command set them, for processes that load the definitions anew."""
    data_root = str(Path(options.data_root).resolve())
    llm = {k: v for k, v in options.llm_settings(ledger).items() if v is not None}
    return {
        "resources": {
            "llm": {"config": llm},
            "data_paths": {"config": {"data_root": data_root}},
            "tasks_io_manager": {"config": {"data_root": data_root, "folder": "02_tasks"}},
            "parsing_io_manager": {"config": {"data_root": data_root, "folder": "05_parsing"}},
        }
    }


def daemon_running(instance: DagsterInstance) -> bool:
    now = time.time()
    beats = instance.get_daemon_heartbeats().values()
    return any(now - beat.timestamp < DAEMON_FRESH_S for beat in beats)


def uses_run_queue(instance: DagsterInstance) -> bool:
    return type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"


class Daemon:
    """``dagster-daemon run`` for this command's runs, when no daemon serves the instance."""

    def __init__(self, log_path: Path):
        self._log_path = log_path
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        if self._process is not None:
            return
        script = Path(sys.executable).with_name("dagster-daemon")  # this environment's
        command = [str(script) if script.exists() else "dagster-daemon"]
        if sys.platform == "linux":
            command = [sys.executable, "-c", EXEC_TIED_TO_PARENT, *command]
        log = self._log_path.open("ab")
        self._process = subprocess.Popen(
            [*command, "run", "-m", DEFINITIONS_MODULE, "-d", os.getcwd()],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # the command's Ctrl-C is handled by the command
        )
        log.close()

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@contextlib.contextmanager
def run_queue_served(instance: DagsterInstance, work: Path) -> Iterator[Daemon]:
    """A daemon for the queue, started now when none runs (and stopped at the end)."""
    daemon = Daemon(work / "dagster-daemon.log")
    if uses_run_queue(instance) and not daemon_running(instance):
        daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


def submit_runs(
    instance: DagsterInstance,
    options: RunOptions,
    plan_keys: dict[str, list[str]],
    ledger: Path | None,
) -> list[WorkerRun]:
    """Every stage's pending keys as runs in ``options.workers`` lanes each (see the module
    docstring), submitted in stage order."""
    config = run_config(options, ledger)
    size = options.partitions_per_run()
    runs: list[WorkerRun] = []
    with code_location(instance, DEFINITIONS_MODULE, os.getcwd()) as location:
        for stage, keys in plan_keys.items():
            for number, part in enumerate(worker_ranges(keys, options.workers, size), start=1):
                tags = {
                    **partition_range_tags(part[0], part[-1]),
                    INVOCATION_TAG: options.invocation,
                    WORKER_TAG: f"{stage}-{number}",
                    LANE_TAG: lane_of(options.invocation, stage, number, options.workers),
                }
                spec = RunRequestSpec(JOB_OF_STAGE[stage], tags, config)
                runs.append(WorkerRun(stage, location.submit(spec), len(part)))
    return runs


def wait_for_runs(instance: DagsterInstance, runs: list[WorkerRun], daemon: Daemon) -> None:
    """Until every run has finished. Ctrl-C cancels the runs not yet finished (each stores what
    it has and stops, as an interrupted in-process run does)."""
    started = time.monotonic()
    cancelled = False
    while True:
        statuses = {run.run_id: instance.get_run_by_id(run.run_id) for run in runs}
        if all(r is None or r.is_finished for r in statuses.values()):
            return
        if stop_requested() and not cancelled:
            for run_id, run in statuses.items():
                if run is not None and not run.is_finished:
                    instance.run_coordinator.cancel_run(run_id)
            cancelled = True
        queued = any(r and r.status == DagsterRunStatus.QUEUED for r in statuses.values())
        if queued and time.monotonic() - started > QUEUED_PATIENCE_S and uses_run_queue(instance):
            daemon.start()  # a heartbeat said a daemon runs, but none took the runs
        time.sleep(POLL_S)


# Dagster's run failure when the run's process died (killed, out of memory); what happened is in
# an engine event its code server reports just before: "[DagsterApiServer] Run execution process
# for <run id> was terminated by signal 9 (SIGKILL). This usually indicates ...".
FAILED_FROM_OUTSIDE = "marked as failed from outside the execution context"
CRASH_PREFIX = "Run execution process for "


def crash_explanation(instance: DagsterInstance, run_id: str) -> str | None:
    """How the run's process ended, as one short sentence, when Dagster recorded it."""
    records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ENGINE_EVENT).records
    for record in records:
        event = record.event_log_entry.dagster_event
        message = (event.message if event else None) or ""
        if CRASH_PREFIX in message:  # after the reporter's name, "[DagsterApiServer] "
            account = message[message.index(CRASH_PREFIX) :]
            how = account.removeprefix(f"{CRASH_PREFIX}{run_id} ").split(". ")[0].rstrip(".")
            hint = ", often the system running out of memory" if "SIGKILL" in how else ""
            return f"its process {how}{hint}; the answers it received are stored."
    return None


def failure_message(instance: DagsterInstance, run_id: str) -> str:
    """The first step failure's description (or the run failure's message)."""
    for event_type in (DagsterEventType.STEP_FAILURE, DagsterEventType.RUN_FAILURE):
        records = instance.get_records_for_run(run_id, of_type=event_type, limit=1).records
        for record in records:
            event = record.event_log_entry.dagster_event
            data = event.event_specific_data if event else None
            failure = getattr(data, "user_failure_data", None)
            if failure is not None and failure.description:
                return failure.description
            error = getattr(data, "error", None)
            if error is not None and error.message:
                return error.message.strip().splitlines()[0][:300]
            if event is not None and event.message:
                if FAILED_FROM_OUTSIDE in event.message:
                    return crash_explanation(instance, run_id) or event.message.strip()
                return event.message.strip().splitlines()[0][:300]
    return "run failed"


def stage_reports(instance: DagsterInstance, runs: list[WorkerRun]) -> dict[str, StageReport]:
    """One report per stage, merged over its runs."""
    reports: dict[str, StageReport] = {}
    for run in runs:
        record = instance.get_run_by_id(run.run_id)
        success = record is not None and record.status == DagsterRunStatus.SUCCESS
        error = "" if success else failure_message(instance, run.run_id)
        if record is not None and record.status == DagsterRunStatus.CANCELED:
            error = INTERRUPTED
        report = tallied_report(run.stage, run.run_id, success, error)
        if run.stage in reports:
            reports[run.stage].merge(report)
        else:
            reports[run.stage] = report
    return reports
