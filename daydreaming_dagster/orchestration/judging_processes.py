"""The processes that judge beside the main one: one forked process, or a crew of them.

A process that makes Dagster runs grows with every run, though it keeps no run's objects:
measured at 16 concepts, about 8 MB of private memory per run of 2,000 partitions, in both
processes, to 875 MB at the peak (2.5 times the default experiment's). Per run, about 700
Python objects survive and the rest is the C heap's and Python's allocator's fragments, which
no cleanup inside the process gives back. A process that ends gives all of it back.

So an experiment with more evaluation runs than two processes should each make
(``RUNS_PER_PROCESS``) is judged by a crew: a process forked from the main one before any run
(``crew_main``), which does no run itself and starts judging processes, each judging at most
``RUNS_PER_PROCESS`` chunks. One judges from the front as soon as the crew starts; when it has
spent its budget with chunks left, the crew starts another in its place. When the main process
has judged its own budget from the back, it asks the crew for a process to take over the back.
Each is forked from the crew, a copy of the main process from before any run, so it starts
with everything imported and nothing grown. Smaller experiments keep one judging process and
no crew: a crew is one more process holding its own copy of pages the others write.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ..llm_calls.interrupt import stop_on_sigint, stop_requested
from ..records.fork_memory import FrozenHeap
from .options import RunOptions
from .parallel_judging import (
    BUDGET_SPENT,
    Assignment,
    ChunkQueue,
    ChunkResults,
    JudgeRange,
    Share,
    exit_with_parent,
    judge_chunks,
    judging_main,
)
from .process_names import JUDGING_CREW, name_this_process
from .run_reports import INTERRUPTED, StageReport, read_report, write_report

# At 12 concepts (24,750 calls) each process makes about 7 runs and peaks at about 120 MB of
# private memory; a crew starts where a process would make more than this many.
RUNS_PER_PROCESS = 8
REPORTS = "judging-report-{number}.json"
TAKE_BACK = "back"


def needs_crew(chunks: int) -> bool:
    """Whether the two processes would each judge more than ``RUNS_PER_PROCESS`` chunks."""
    return chunks > 2 * RUNS_PER_PROCESS


def report_paths(work: Path) -> list[Path]:
    return sorted(work.glob(REPORTS.format(number="*")))


class Crew:
    """What ``crew_main`` runs: judging processes, each replaced when it spends its budget."""

    def __init__(self, args: tuple, work: Path, queue: ChunkQueue):
        self._context = multiprocessing.get_context("fork")
        self._args = args  # judging_main's first arguments, up to the report path
        self._work = work
        self._queue = queue
        self._workers: dict[Any, tuple[Share, int]] = {}
        self._started = 0

    def start(self, share: Share) -> None:
        number = self._started
        self._started += 1
        options, prepared, assignment, queue, ledger = self._args
        process = self._context.Process(
            target=judging_main,
            args=(
                options,
                os.getpid(),
                prepared,
                assignment,
                queue,
                str(self._work / REPORTS.format(number=number)),
                ledger,
                share,
            ),
            name=f"daydreaming-judging-{number}",
        )
        process.start()
        self._workers[process] = (share, number)

    def tend(self) -> bool:
        """Replace every process that ended on its budget while chunks are left; report one
        that failed. False once none is running."""
        for process in [p for p in self._workers if not p.is_alive()]:
            process.join()
            share, number = self._workers.pop(process)
            code = process.exitcode
            if code == BUDGET_SPENT:
                if not stop_requested() and self._queue.has_chunks():
                    self.start(share)
            elif code != 0:
                error = INTERRUPTED if code == 130 else f"a judging process exited with code {code}"
                path = self._work / REPORTS.format(number=number)
                if not path.exists():
                    write_report(path, StageReport("evaluation", run_ok=False, error=error))
        return bool(self._workers)


def crew_main(
    options: RunOptions,
    parent_pid: int,
    prepared: Any,
    assignment: Assignment,
    queue: ChunkQueue,
    work: str,
    ledger: str | None,
    requests: Connection,
) -> None:
    """Body of the crew process: start the front's judging process, one for the back when the
    main process asks, and a new one for each that spends its budget; end when none is left."""
    name_this_process(JUDGING_CREW)
    exit_with_parent(parent_pid)
    stop_on_sigint()  # Ctrl-C: no new judging process; the running ones wind down themselves
    crew = Crew((options, prepared, assignment, queue, ledger), Path(work), queue)
    crew.start(Share(from_back=False, budget=RUNS_PER_PROCESS))
    listening = True
    while True:
        while listening and requests.poll():
            try:
                request = requests.recv()
            except EOFError:
                listening = False
                break
            if request == TAKE_BACK and not stop_requested() and queue.has_chunks():
                crew.start(Share(from_back=True, budget=RUNS_PER_PROCESS))
        if not crew.tend():
            break
        time.sleep(0.05)


class JudgingProcess:
    """The judging beside the main process, and the chunk queue they share: one forked process,
    or for a large experiment a crew (see the module docstring).

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
        self._work = work
        self.queue = ChunkQueue(context, len(assignment.chunks))
        self.crewed = method == "fork" and needs_crew(len(assignment.chunks))
        self._own_budget = RUNS_PER_PROCESS if self.crewed else None
        common = (
            options,
            os.getpid(),
            prepared if method == "fork" else None,
            assignment,
            self.queue,
        )
        ledger_path = str(ledger) if ledger else None
        self._requests: Connection | None = None
        if self.crewed:
            listen, self._requests = context.Pipe(duplex=False)
            target = crew_main
            args = (*common, str(work), ledger_path, listen)
        else:
            target = judging_main
            args = (*common, str(work / REPORTS.format(number=0)), ledger_path)
        self._process = context.Process(target=target, args=args, name="daydreaming-judging")
        self.started_at = time.perf_counter()
        # Neither process copies the other's share of the heap while both live (see fork_memory).
        self._frozen = FrozenHeap()
        self._process.start()
        if self.crewed:
            listen.close()

    def close(self) -> None:
        """Stop the judging if this process is leaving before ``finish`` (an error)."""
        if self._process.is_alive():
            self._process.terminate()  # a crew's judging processes follow it (exit_with_parent)
            self._process.join()
        self._frozen.thaw()

    def judge_from_back(self, judge_range: JudgeRange) -> ChunkResults:
        """The main process's share: chunks from the back until the two ends meet or, with a
        crew, until its budget is spent; then a crew's process takes over the back."""
        results = judge_chunks(
            self.queue.take_back, self.queue, judge_range, self._assignment, self._own_budget
        )
        if results.budget_spent and self.queue.has_chunks() and self._requests is not None:
            try:
                self._requests.send(TAKE_BACK)
            except OSError:
                pass  # the crew has ended: ``finish`` judges what is left here
        return results

    def finish(
        self, own: ChunkResults, while_waiting=None, judge_range: JudgeRange | None = None
    ) -> StageReport:
        """Wait for the judging processes and combine their reports with the main process's
        chunks; ``while_waiting`` is called first if they are still judging (work for an idle
        core). Chunks nobody judged (a crew that ended early) are judged here."""
        if while_waiting is not None and self._process.is_alive():
            while_waiting()
        while self._process.is_alive():
            self._process.join(0.2)  # in steps, so Ctrl-C is noticed here at once
        if self._requests is not None:
            self._requests.close()
        self._frozen.thaw()
        reports = list(own.reports)
        if judge_range is not None and not stop_requested() and self.queue.has_chunks():
            left = judge_chunks(self.queue.take_back, self.queue, judge_range, self._assignment)
            reports.extend(left.reports)
        found = report_paths(self._work)
        reports.extend(read_report(path) for path in found)
        code = self._process.exitcode
        if code == 130 or (not found and stop_requested()):
            reports.append(StageReport("evaluation", run_ok=False, error=INTERRUPTED))
        elif code != 0:
            reports.append(
                StageReport(
                    "evaluation",
                    run_ok=False,
                    error=f"the judging process exited with code {code}",
                )
            )
        return ChunkResults(reports).merged()
