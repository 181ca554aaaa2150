"""``daydreaming run`` as a sequence of Dagster runs, returning a typed outcome to render.

Setup and planning; then generation in this process while a forked process judges (and this
one too, once its generations are done); then scores and summaries. What happens is told to a
``RunDisplay`` as it happens and summed up in a ``RunOutcome`` at the end; this module prints
nothing itself.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from dagster import DagsterInstance

from ..assets.results import CONTEXT_FILE, summary_fingerprint
from ..llm_calls.failures import FailureKind
from ..llm_calls.interrupt import stop_requested
from ..llm_calls.pacing import Exhaustion, limiter_keys
from ..records.data_layout import DataLayout
from ..records.fork_memory import release_free_memory
from ..resources.llm_client import LLMClientResource
from .cohorts import record_cohort
from .cost_estimate import Plan, estimate
from .dagster_runs import (
    INVOCATION_TAG,
    fail_orphaned_runs,
    materialize_selection,
    open_instance,
    ordered_keys,
)
from .options import DEFAULT_RUN_PARTITIONS, RunOptions
from .parallel_judging import (
    Assignment,
    ChunkResults,
    JudgingProcess,
    cut,
    head_start_for,
    split_in_two,
)
from .project import Project, judge_range_fn, prepare, run_range, run_setup
from .quota import quota_exhaustions
from .report_command import ReportRefresh, record_failures, refresh_report
from .run_reports import (
    INTERRUPTED,
    CheckOutcome,
    StageReport,
    check_results,
    first_failure_message,
)
from .worker_runs import run_queue_served, stage_reports, submit_runs, wait_for_runs


class RunStatus(StrEnum):
    DONE = "done"
    FAILED = "failed"  # some tasks failed; the rest are stored
    STOPPED_BEFORE_CALLS = "stopped before calls"  # setup or a blocking validity check failed
    BUDGET = "budget"  # --max-cost refused calls
    QUOTA = "quota"  # a daily quota ran out
    INTERRUPTED = "interrupted"


@dataclass
class RunOutcome:
    status: RunStatus
    project: Project
    reports: list[StageReport] = field(default_factory=list)
    setup_checks: list[CheckOutcome] = field(default_factory=list)
    result_checks: list[CheckOutcome] = field(default_factory=list)
    results_ok: bool = True
    results_made: bool = False
    error: str = ""
    quota: list[Exhaustion] = field(default_factory=list)
    calls_left: dict[str, int] = field(default_factory=dict)  # after a quota stop, per model
    quota_models: list[str] = field(default_factory=list)  # the models the quotas stopped
    cohort_id: str = ""  # data/cohorts/<id>/, recorded at the end (see orchestration.cohorts)
    report: ReportRefresh | None = None  # the HTML report, refreshed at the end

    @property
    def spent_usd(self) -> float:
        return sum(report.charged_usd for report in self.reports)


class RunDisplay(Protocol):
    """Where the orchestration tells what it is doing (see ``console``)."""

    def started(self, project: Project, orphaned_runs: int) -> None: ...

    def checks_passed(self, checks: list[CheckOutcome]) -> None: ...

    def calibration(self, layout: DataLayout, checks: list[CheckOutcome], error: str) -> None: ...

    def plan(self, plan: Plan) -> None: ...

    def watching(
        self, folder: Path, label: str, expected: int
    ) -> contextlib.AbstractContextManager: ...

    def stage_finished(self, report: StageReport, seconds: float) -> None: ...

    def nothing_to_do(self, stage: str) -> None: ...

    def results_up_to_date(self) -> None: ...


def responses_folder(layout: DataLayout, stage: str) -> Path:
    return layout.generation_responses if stage == "generation" else layout.evaluation_responses


def run_stage(
    project: Project,
    instance: DagsterInstance,
    stage: str,
    keys: list[str],
    llm: LLMClientResource,
    display: RunDisplay,
    extra_tags: dict[str, str] | None = None,
    run_partitions: int = DEFAULT_RUN_PARTITIONS,
) -> StageReport:
    """Batch runs, one after another, over the partition ranges that cover ``keys``."""
    if not keys:
        display.nothing_to_do(stage)
        return StageReport(stage)
    try:
        ordered = ordered_keys(instance, stage, keys)
    except ValueError as exc:
        return StageReport(stage, run_ok=False, error=str(exc))
    started = time.perf_counter()
    report = StageReport(stage)
    with display.watching(responses_folder(project.layout, stage), stage, len(keys)):
        # Runs of at most ``run_partitions`` partitions each: a run holds its events until it
        # ends (see parallel_judging), so memory stays bounded whatever the experiment's size.
        for part in cut(slice(0, len(ordered)), run_partitions):
            chunk = ordered[part]
            report.merge(run_range(project.defs, instance, stage, chunk, llm, extra_tags))
            if report.stopped_the_run or stop_requested():
                break
    display.stage_finished(report, time.perf_counter() - started)
    return report


def prepare_results() -> None:
    """Import the chart library (about 0.3 s) and scipy's statistics (about 1 s, for the paired
    comparisons) ahead of the summary step, while waiting anyway."""
    import scipy.stats  # noqa: F401

    import daydreaming_dagster.experiment.charts  # noqa: F401


def results_current(layout: DataLayout, fingerprint: str) -> bool:
    """Whether the scores and summaries were made from exactly the task states and answers
    there are now (their recorded fingerprint, see records.task_status), not from others."""
    from ..experiment.summary_context import SummaryContext

    if not (layout.parsing / "parsed_scores.csv").exists():
        return False
    try:
        made = SummaryContext.from_json((layout.summary / CONTEXT_FILE).read_text("utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return False
    return made.inputs_fingerprint == fingerprint


def run_calibration(project: Project, instance: DagsterInstance, llm, display: RunDisplay) -> None:
    result = materialize_selection(
        project.defs,
        instance,
        ["calibration_scores"],
        resources={**project.defs.resources, "llm": llm},
    )
    error = "" if result.success else first_failure_message(result)
    display.calibration(project.layout, check_results(result), error)


@contextlib.contextmanager
def judging_alongside(
    options: RunOptions,
    project: Project,
    plan_keys: tuple[list[str], list[str]],
    work: Path,
    ledger: Path | None,
) -> Iterator[JudgingProcess | None]:
    """The forked judging process for this run's evaluations (None when there are none).
    Started with no instance open in this process: the child must not share connections."""
    generation_keys, evaluation_keys = plan_keys
    judging = None
    if evaluation_keys:
        head_start = head_start_for(len(generation_keys))
        chunks = split_in_two(
            len(evaluation_keys), head_start, max_size=options.partitions_per_run()
        )
        assignment = Assignment(options.invocation, evaluation_keys, generation_keys, chunks)
        judging = JudgingProcess(options, project, assignment, work, ledger)
    try:
        yield judging
    finally:
        if judging is not None:
            judging.close()


def status_of(reports: list[StageReport], results_ok: bool, quota: list[Exhaustion]) -> RunStatus:
    if stop_requested() or any(r.error == INTERRUPTED for r in reports):
        return RunStatus.INTERRUPTED
    if quota:
        return RunStatus.QUOTA
    if any(r.count(FailureKind.BUDGET) for r in reports):
        return RunStatus.BUDGET
    if any(not r.run_ok or r.failures for r in reports) or not results_ok:
        return RunStatus.FAILED
    return RunStatus.DONE


def run_experiment(options: RunOptions, display: RunDisplay) -> RunOutcome:
    """Everything ``daydreaming run`` does, in order; see the module docstring."""
    options.partitions_per_run()  # a bad setting stops the command before anything runs
    project = prepare(options)
    layout = project.layout
    work = Path(tempfile.mkdtemp(prefix="daydreaming-run-"))
    ledger = work / "budget.json" if options.max_cost_usd is not None else None
    llm = options.llm(ledger)
    with open_instance() as instance:
        display.started(project, fail_orphaned_runs(instance))
        setup = run_setup(project.defs, instance)
        checks = check_results(setup)
        outcome = RunOutcome(RunStatus.DONE, project, setup_checks=checks)
        if any(not check.passed for check in checks) or not setup.success:
            outcome.status = RunStatus.STOPPED_BEFORE_CALLS
            outcome.error = "" if setup.success else first_failure_message(setup)
            return outcome
        del setup  # its events; its outputs (the task tables) are dropped already (dagster_runs)
        display.checks_passed(checks)
        if options.calibrate:
            run_calibration(project, instance, llm, display)
        plan = estimate(layout, llm.resolved_base_url(), reuse=not options.force)
        display.plan(plan)
        generation_keys = plan.pending("generation")
        evaluation_keys = ordered_keys(instance, "evaluation", plan.pending("evaluation"))
    keys = (generation_keys, evaluation_keys)
    if options.workers > 1:
        run_on_workers(options, project, keys, work, ledger, display, outcome)
        with open_instance() as instance:
            if not stop_requested():
                make_results(outcome, instance, plan, display)
    else:
        run_here(options, project, keys, (work, ledger), llm, display, outcome, plan)
    finish_outcome(outcome, options, llm)
    if outcome.status is not RunStatus.INTERRUPTED and outcome.results_ok:
        outcome.cohort_id = record_cohort(options, layout, llm.resolved_base_url(), outcome.status)
    if not stop_requested():
        outcome.report = refresh_report(layout)
    return outcome


def run_here(
    options: RunOptions,
    project: Project,
    keys: tuple[list[str], list[str]],
    scratch: tuple[Path, Path | None],
    llm: LLMClientResource,
    display: RunDisplay,
    outcome: RunOutcome,
    plan: Plan,
) -> None:
    """Generation in this process while a forked process judges (see parallel_judging)."""
    layout, reports = project.layout, outcome.reports
    (work, ledger), (generation_keys, evaluation_keys) = scratch, keys
    with judging_alongside(options, project, keys, work, ledger) as judging:
        with open_instance() as instance:
            with (
                display.watching(layout.evaluation_responses, "evaluation", len(evaluation_keys))
                if judging
                else contextlib.nullcontext()
            ):
                tags = {INVOCATION_TAG: options.invocation}
                generation = run_stage(
                    project,
                    instance,
                    "generation",
                    generation_keys,
                    llm,
                    display,
                    tags,
                    options.partitions_per_run(),
                )
                reports.append(generation)
                if judging is not None:
                    judging.queue.generation_ended()
                    own = ChunkResults()
                    if generation.stopped_the_run or stop_requested():
                        judging.queue.stop()
                    else:
                        own = judging.judge_from_back(judge_range_fn(project.defs, instance, llm))
                    reports.append(judging.finish(own, while_waiting=prepare_results))
            if judging is not None:
                display.stage_finished(reports[-1], time.perf_counter() - judging.started_at)
            else:
                display.nothing_to_do("evaluation")
            if not stop_requested():
                make_results(outcome, instance, plan, display)


def run_on_workers(
    options: RunOptions,
    project: Project,
    keys: tuple[list[str], list[str]],
    work: Path,
    ledger: Path | None,
    display: RunDisplay,
    outcome: RunOutcome,
) -> None:
    """The pending work as runs on Dagster's run queue and launcher (see worker_runs)."""
    pending = dict(zip(("generation", "evaluation"), keys, strict=True))
    if not any(pending.values()):
        display.nothing_to_do("generation")
        display.nothing_to_do("evaluation")
        return
    started = time.perf_counter()
    with contextlib.ExitStack() as watching:
        for stage, stage_keys in pending.items():
            if stage_keys:
                folder = responses_folder(project.layout, stage)
                watching.enter_context(display.watching(folder, stage, len(stage_keys)))
        with open_instance() as instance, run_queue_served(instance, work) as daemon:
            runs = submit_runs(instance, options, pending, ledger)
            wait_for_runs(instance, runs, daemon)
            reports = stage_reports(instance, runs)
    for stage in pending:
        if stage in reports:
            outcome.reports.append(reports[stage])
            display.stage_finished(reports[stage], time.perf_counter() - started)
        else:
            display.nothing_to_do(stage)


def finish_outcome(outcome: RunOutcome, options: RunOptions, llm: LLMClientResource) -> None:
    """Quota stops (with the calls each stopped model still needs) and the final status."""
    layout, reports = outcome.project.layout, outcome.reports
    outcome.quota = quota_exhaustions(llm)
    if outcome.quota:
        left = estimate(layout, llm.resolved_base_url(), reuse=not options.force)
        outcome.calls_left = {e.model: e.calls for e in left.estimates if e.calls}
        keys = {entry.key for entry in outcome.quota}
        outcome.quota_models = sorted(
            {e.model for e in left.estimates if keys & set(limiter_keys(e.model))}
        )
    outcome.status = status_of(reports, outcome.results_ok, outcome.quota)


def make_results(
    outcome: RunOutcome, instance: DagsterInstance, plan: Plan, display: RunDisplay
) -> None:
    """Scores and summaries, unless they were made from exactly what is stored now."""
    release_free_memory()  # what the runs freed, before the summaries' own peak
    ran = any(report.materialized or report.failures for report in outcome.reports)
    layout = outcome.project.layout
    record_failures(layout, outcome.reports)  # the report flags them (before it is written)
    if not ran and results_current(layout, summary_fingerprint(plan.status, layout)):
        display.results_up_to_date()
        return
    results = materialize_selection(
        outcome.project.defs, instance, ["parsed_scores", "final_results"]
    )
    outcome.results_made = True
    outcome.results_ok = results.success
    outcome.result_checks = check_results(results)
    if not results.success:
        outcome.error = first_failure_message(results)
