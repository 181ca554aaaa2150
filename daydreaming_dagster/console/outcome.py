"""The end of ``daydreaming run``: what happened, what it cost, what to do next."""

from __future__ import annotations

import shlex
import sys
from collections import Counter

from ..llm_calls.failures import FailureKind
from ..orchestration.experiment_run import RunOutcome, RunStatus
from ..orchestration.run_reports import (
    INTERRUPTED,
    StageReport,
    format_spent,
    format_usage,
    usage_by_model,
)
from .report_display import refresh_lines
from .run_display import check_line

SHOWN_FAILURES = 10
# Failures whose cause is upstream (another task, a quota, an interruption): summed up in one
# line each, never listed one by one with advice to redo them by hand.
UPSTREAM = {
    "not_ready": "not judged yet: their generation is not done",
    FailureKind.QUOTA_EXHAUSTED.value: "not called: the daily quota is gone",
    FailureKind.NOT_ATTEMPTED.value: "not attempted: the run stopped first",
}


def resume_command() -> str:
    return shlex.join(["uv", "run", "daydreaming", *sys.argv[1:]])


def _reason_head(reason: str) -> str:
    """A failure reason without the advice that follows it."""
    return reason.split(". Materialize it first")[0]


def failure_lines(report: StageReport) -> list[str]:
    lines = []
    kinds = Counter(report.failure_kinds.get(key, "") for key in report.failures)
    own = [
        (key, reason)
        for key, reason in report.failures.items()
        if report.failure_kinds.get(key, "") not in UPSTREAM
    ]
    for key, reason in own[:SHOWN_FAILURES]:
        lines.append(f"    FAILED {key}: {reason}")
    if len(own) > SHOWN_FAILURES:
        lines.append(
            f"    ... and {len(own) - SHOWN_FAILURES} more (see the run in the Dagster UI)"
        )
    for kind, words in UPSTREAM.items():
        if kinds.get(kind):
            example = next(
                (r for k, r in report.failures.items() if report.failure_kinds.get(k) == kind), ""
            )
            lines.append(f"    {kinds[kind]} {words} (first: {_reason_head(example)[:200]})")
    return lines


def print_outcome(outcome: RunOutcome) -> None:
    layout = outcome.project.layout
    print("\nSummary")
    for report in outcome.reports:
        print(
            f"  {report.label}: {report.called} called now, {report.reused} reused, "
            f"{len(report.failures)} failed"
        )
        for line in failure_lines(report):
            print(line)
        if not report.run_ok and not report.failures and report.error != INTERRUPTED:
            print(f"    FAILED: {report.error}")
    print(f"Spent in this run: {format_spent(outcome.spent_usd, outcome.reports)}")
    print("Tokens and cost of all stored answers, per model:")
    print(format_usage(usage_by_model([layout.generation_responses, layout.evaluation_responses])))
    print_best(outcome)
    print_headline(outcome)
    print(f"Scores: {layout.parsing / 'parsed_scores.csv'}\nSummaries: {layout.summary}/")
    if outcome.cohort_id:
        print(f"Cohort: {outcome.cohort_id} ({layout.cohorts / outcome.cohort_id}/)")
    for check in outcome.result_checks:
        print(check_line(check))
    if outcome.report is not None:
        print("\n".join(refresh_lines(outcome.report)))
    print_next_step(outcome)


def print_best(outcome: RunOutcome) -> None:
    import pandas as pd

    top_file = outcome.project.layout.summary / "top_responses.csv"
    if not outcome.results_ok:
        print(f"parsed_scores/final_results failed: {outcome.error}")
        return
    if not top_file.exists():
        return
    top = pd.read_csv(top_file)
    if top.empty:
        return
    print("Best generations (mean judge score per evaluation template):")
    for row in top.groupby("evaluation_template").head(3).itertuples(index=False):
        print(
            f"  {row.mean_score:4.1f}  [{row.evaluation_template}] {row.generation_task_id}"
            f"\n        {row.generation_response_path}"
        )


def print_headline(outcome: RunOutcome) -> None:
    """The answer to the experiment's question, per generator (from headline.csv)."""
    import pandas as pd

    path = outcome.project.layout.summary / "headline.csv"
    if not outcome.results_ok or not path.exists():
        return
    table = pd.read_csv(path)
    if table.empty:
        return
    first = table.iloc[0]
    print(f"Reinvention rate (judges' mean >= {first.threshold:g} on {first.evaluation_template}):")
    for row in table.itertuples(index=False):
        if row.n_essays:
            interval = f"[{row.ci95_low:.0%}-{row.ci95_high:.0%}]"
            share = f"{row.n_reinvented} of {row.n_essays} essays"
            print(f"  {row.reinvention_rate:6.1%}  {interval}  {share}  {row.generation_model}")
        else:
            print(f"  (no scored essays)  {row.generation_model}")
    print(f"  Calibration controls: {first.controls}")


def print_next_step(outcome: RunOutcome) -> None:
    """One short block saying why the run stopped and the command that continues it."""
    if outcome.status is RunStatus.QUOTA:
        print()
        for entry in outcome.quota:
            print(f"Stopped: the daily quota ran out ({entry.describe()}).")
        print(f"  Models under it, no longer called: {', '.join(outcome.quota_models)}.")
        left = sum(outcome.calls_left.values())
        models = ", ".join(f"{m} {n}" for m, n in sorted(outcome.calls_left.items())) or "none"
        print(f"  {left} calls are left to make ({models}); every answer so far is stored.")
        print("  Models with quota left kept going. After the reset, continue with:")
        print(f"  {resume_command()}")
    elif outcome.status is RunStatus.INTERRUPTED:
        print("\nInterrupted: no new call was started; every answer received is stored.")
        print(f"Continue with: {resume_command()}")
    elif outcome.status is RunStatus.BUDGET:
        print("\nSome calls were not made: they would have passed --max-cost. Raise it, or run")
        print(f"again to spend the same amount once more: {resume_command()}")
    elif outcome.status is RunStatus.FAILED:
        print(
            f"\nSome tasks failed (see above); running again redoes only those: {resume_command()}"
        )


def print_stopped_before_calls(outcome: RunOutcome) -> None:
    failed = [check for check in outcome.setup_checks if not check.passed]
    if failed:
        print("Stopped before any model call: a blocking validity check failed.", file=sys.stderr)
        for check in failed:
            print(f"  FAILED {check.name}: {check.description}", file=sys.stderr)
    else:
        print(f"Setup failed: {outcome.error}", file=sys.stderr)
