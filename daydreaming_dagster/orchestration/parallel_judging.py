"""Judge in two processes at once: a forked judging process, then the main one too.

Dagster executes a run's steps in one process, and a batch run's bookkeeping (events for every
partition, files, HTTP) is CPU-bound against a fast endpoint. One process judging every partition
keeps one core busy while the main process, its generations done, waits. So the pending evaluation
keys are cut into contiguous chunks, each judged by its own batch run: the judging process takes
chunks from the front while generation runs (each evaluation waits for its generation, so
judging overlaps generation), and the main process takes chunks from the back once its
generation run is over. Each chunk is an ordinary Dagster run over a partition range, so the UI's
per-partition status and failure marks mean exactly what they mean for any other run.

The judging process is forked after setup, between two uses of the instance (so no database
connection is shared), and starts in milliseconds with everything already imported instead of
importing Dagster again. Where ``fork`` does not exist it is spawned, and prepares the
definitions itself.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..llm_calls.interrupt import stop_on_sigint, stop_requested
from ..records.fork_memory import FrozenHeap
from .options import DEFAULT_RUN_PARTITIONS, RunOptions
from .process_names import JUDGING, name_this_process
from .run_reports import INTERRUPTED, StageReport, read_report, write_report

# Each chunk is its own run, and a run costs about 0.2 s of CPU before and after its partitions;
# measured on the full experiment (600 evaluations, 2 cores): 6 chunks 10.1 s, 4 chunks 9.7 s,
# 2 chunks 9.1 s. So the keys are cut in two: a front part for the judging process, which starts
# while the main process is still generating, and the rest for the main process. The queue still
# lets either process take the other's part if that one has not started it.
MIN_CHUNK = 50  # smaller selections are judged in one run


# A run keeps every event its step emits until it ends (Dagster's in-process result and the
# step's hook list hold them all, about 13 KB per partition here), so no run judges more than
# ``RunOptions.run_partitions`` partitions: each part is cut into runs of at most that many,
# which bounds that memory whatever the experiment's size, for about 0.2 s of CPU per extra run.
MAX_RUN_PARTITIONS = DEFAULT_RUN_PARTITIONS


def split_in_two(
    count: int, head_start: int = 0, min_size: int = MIN_CHUNK, max_size: int = MAX_RUN_PARTITIONS
) -> list[slice]:
    """A front and a back part of ``range(count)``; the front is larger by ``head_start``, the
    work its process gets done while the other one is busy with something else. One part when
    ``count`` is too small for two runs to pay off. A part larger than ``max_size`` is cut into
    equal runs of at most that size, in order."""
    if count <= 0:
        return []
    if count < 2 * min_size:
        return cut(slice(0, count), max_size)
    front = min(max((count + head_start + 1) // 2, min_size), count - min_size)
    return cut(slice(0, front), max_size) + cut(slice(front, count), max_size)


def cut(part: slice, max_size: int) -> list[slice]:
    """``part`` as consecutive slices of nearly equal size, none over ``max_size``."""
    size = part.stop - part.start
    pieces = -(-size // max_size)
    bounds = [part.start + size * i // pieces for i in range(pieces + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]


# While the judging process finishes, the main process imports the summary step's libraries
# (scipy's statistics and matplotlib, about 0.8 s on 2 cores): the judging process takes about
# that much more judging (at about 6-7 ms of CPU each) so that the import fills a wait instead
# of following it.
RESULTS_PREPARATION_EVALUATIONS = 90


def head_start_for(pending_generations: int) -> int:
    """How many more evaluations the judging process takes than the main process. A generation
    costs the main process about what an evaluation costs, so both processes would finish
    together with ``pending_generations`` more (measured on the full experiment: both runs
    ended within 0.1 s); the main process's share is smaller still by the evaluations it would
    judge while it prepares the summary step (``RESULTS_PREPARATION_EVALUATIONS``)."""
    return pending_generations + 2 * RESULTS_PREPARATION_EVALUATIONS


class ChunkQueue:
    """Chunk numbers shared by the two processes: the judging one takes from the front, the main
    one from the back, so each chunk is judged exactly once and neither waits for the other."""

    def __init__(self, context: Any, count: int):
        self._lock = context.Lock()
        self._front = context.RawValue("i", 0)
        self._back = context.RawValue("i", count)  # one past the last chunk not yet taken
        self._stopped = context.RawValue("b", 0)
        self._generation_over = context.RawValue("b", 0)

    def take_front(self) -> int | None:
        with self._lock:
            if self._stopped.value or self._front.value >= self._back.value:
                return None
            self._front.value += 1
            return self._front.value - 1

    def take_back(self) -> int | None:
        with self._lock:
            if self._stopped.value or self._front.value >= self._back.value:
                return None
            self._back.value -= 1
            return self._back.value

    def stop(self) -> None:
        """No chunk is handed out after this (a rejected key or exhausted credit)."""
        with self._lock:
            self._stopped.value = 1

    def generation_ended(self) -> None:
        """The main process's generation runs are over: what they did not store, nobody will."""
        self._generation_over.value = 1

    def generation_over(self) -> bool:
        return bool(self._generation_over.value)


@dataclass
class Assignment:
    """What the judging process is forked to do, known once setup and planning are done."""

    invocation: str
    keys: list[str]  # pending evaluation keys, in partition registration order
    generations: list[str]  # the generation keys the main process will produce meanwhile
    chunks: list[slice]  # of ``keys``: the judging process starts at the front


@dataclass
class ChunkResults:
    reports: list[StageReport] = field(default_factory=list)

    def merged(self) -> StageReport:
        total = StageReport("evaluation")
        for report in self.reports:
            total.merge(report)
        return total


def judge_chunks(take, queue: ChunkQueue, judge_range, assignment: Assignment) -> ChunkResults:
    """Judge chunks handed out by ``take`` until none is left; stop both processes early when a
    chunk's failures say no further call can succeed."""
    results = ChunkResults()
    while not stop_requested() and (number := take()) is not None:
        report = judge_range(assignment.keys[assignment.chunks[number]])
        results.reports.append(report)
        if report.stopped_the_run or stop_requested():
            queue.stop()
    return results


def exit_with_parent(parent: int) -> None:
    """End this process if the ``daydreaming run`` that started it is gone (killed)."""
    if os.getppid() != parent:
        os._exit(3)

    def watch() -> None:
        while True:
            time.sleep(0.2)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


JudgeRange = Callable[[list[str]], StageReport]


def _judging_main(
    options: RunOptions,
    parent_pid: int,
    prepared: Any,
    assignment: Assignment,
    queue: ChunkQueue,
    report_path: str,
    ledger: str | None,
) -> None:
    """Body of the judging process: judge chunks from the front, then write what happened."""
    from ..assets.generation_watch import promise_generations
    from .dagster_runs import open_instance
    from .project import judge_range_fn, prepare

    name_this_process(JUDGING)
    exit_with_parent(parent_pid)
    # Ctrl-C reaches both processes; this one winds down quietly, the main one tells the user.
    stop_on_sigint()
    try:
        project = prepared or prepare(options)
        llm = options.llm(Path(ledger) if ledger else None)
        promise_generations(assignment.generations, queue.generation_over)
        with open_instance() as instance:
            judge = judge_range_fn(project.defs, instance, llm)
            results = judge_chunks(queue.take_front, queue, judge, assignment)
        write_report(Path(report_path), results.merged())
    except KeyboardInterrupt:
        os._exit(130)


class JudgingProcess:
    """The second judging process and the chunk queue it shares with the main process.

    Start it with no Dagster instance open in this process: a forked child must not inherit
    open database connections.
    """

    def __init__(
        self,
        options: RunOptions,
        prepared: Any,
        assignment: Assignment,
        work: Path,
        ledger: Path | None,
    ):
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        self._assignment = assignment
        self.queue = ChunkQueue(context, len(assignment.chunks))
        self._report = work / "judging-report.json"
        self._process = context.Process(
            target=_judging_main,
            args=(
                options,
                os.getpid(),
                prepared if method == "fork" else None,
                assignment,
                self.queue,
                str(self._report),
                str(ledger) if ledger else None,
            ),
            name="daydreaming-judging",
        )
        self.started_at = time.perf_counter()
        # Neither process copies the other's share of the heap while both live (see fork_memory).
        self._frozen = FrozenHeap()
        self._process.start()

    def close(self) -> None:
        """Stop the judging process if this process is leaving before ``finish`` (an error)."""
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._frozen.thaw()

    def judge_from_back(self, judge_range: JudgeRange) -> ChunkResults:
        """The main process's share: chunks from the back until the two meet."""
        return judge_chunks(self.queue.take_back, self.queue, judge_range, self._assignment)

    def finish(self, own: ChunkResults, while_waiting=None) -> StageReport:
        """Wait for the judging process and combine its report with the main process's chunks;
        ``while_waiting`` is called first if it is still judging (work for an idle core)."""
        if while_waiting is not None and self._process.is_alive():
            while_waiting()
        while self._process.is_alive():
            self._process.join(0.2)  # in steps, so Ctrl-C is noticed here at once
        self._frozen.thaw()
        reports = list(own.reports)
        if self._report.exists():
            reports.append(read_report(self._report))
        elif self._process.exitcode == 130 or stop_requested():
            reports.append(StageReport("evaluation", run_ok=False, error=INTERRUPTED))
        elif self._process.exitcode != 0:
            reports.append(
                StageReport(
                    "evaluation",
                    run_ok=False,
                    error=f"the judging process exited with code {self._process.exitcode}",
                )
            )
        return ChunkResults(reports).merged()
