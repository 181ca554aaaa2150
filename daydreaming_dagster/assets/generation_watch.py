"""Whether a missing generation answer is still being produced by a live run, so that an
evaluation waits for it instead of failing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection

from dagster import AssetKey, DagsterInstance, DagsterRun

PID_TAG = "daydreaming/cli_pid"
# On runs that `daydreaming run --workers N` queued: they run in processes of their own (started
# by the run launcher), so no command's pid says whether they are alive; the tag asks their step
# to leave its tally for the command.
WORKER_TAG = "daydreaming/worker"


class _Promise:
    """Generations that another process of this command will still produce, until ``over``.

    ``daydreaming run`` judges in a forked process while its main process generates, in runs of
    its own that start one after another. A run records which partitions it will produce only
    when it is created, and the later ones do not exist yet while judging starts (nor, for
    seconds on a busy machine, does the first); without the promise, a judgement planned then
    would take its generation for one nobody makes and fail (seen: 1,767 of 1,767 in one run).
    """

    keys: Collection[str] = frozenset()
    over: Callable[[], bool] = staticmethod(lambda: True)


def promise_generations(keys: Collection[str], over: Callable[[], bool]) -> None:
    """Set by the judging process of ``daydreaming run`` (see ``_Promise``); nowhere else."""
    _Promise.keys = frozenset(keys)
    _Promise.over = over


def run_process_alive(run: DagsterRun) -> bool:
    """False when the run was started by a ``daydreaming`` process that no longer exists (killed
    runs stay "started" in the instance); True when alive or unknown (UI-launched runs)."""
    pid = run.tags.get(PID_TAG, "")
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class GenerationWatch:
    """Whether a missing generation answer is still being produced by a run in progress.

    Polled for every waiting evaluation, so it keeps the lookups cheap: which run planned a
    generation is looked up once, and each run's status at most once a second.
    """

    def __init__(self, instance: DagsterInstance, generation_asset: AssetKey):
        self._instance = instance
        self._asset = generation_asset
        self._planned_by: dict[str, str | None] = {}
        self._run_checked: dict[str, tuple[float, bool]] = {}

    def in_flight(self, generation_id: str) -> bool:
        if generation_id in _Promise.keys and not _Promise.over():
            return True
        if generation_id not in self._planned_by:
            info = self._instance.get_latest_planned_materialization_info(
                self._asset, generation_id
            )
            self._planned_by[generation_id] = info.run_id if info else None
        run_id = self._planned_by[generation_id]
        return run_id is not None and self._run_in_progress(run_id)

    def _run_in_progress(self, run_id: str) -> bool:
        now = time.monotonic()
        checked = self._run_checked.get(run_id)
        if checked and now - checked[0] < 1.0:
            return checked[1]
        run = self._instance.get_run_by_id(run_id)
        running = run is not None and not run.is_finished and run_process_alive(run)
        self._run_checked[run_id] = (now, running)
        return running
