"""What the ``daydreaming`` command reports about runs: failures, spending and usage per model."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dagster import ExecuteInProcessResult

from ..assets.batch_stage import read_tally
from ..llm_calls.failures import STOPS_THE_RUN, FailureKind
from ..records.data_layout import read_records

INTERRUPTED = "interrupted"


@dataclass
class StageReport:
    """One generation or evaluation run, as the CLI summarises it."""

    label: str
    run_ok: bool = True
    materialized: int = 0
    called: int = 0
    reused: int = 0
    charged_usd: float = 0.0
    # Calls whose cost nobody knows (the server reported none, the CSV gives no price).
    unpriced_calls: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    failure_kinds: dict[str, str] = field(default_factory=dict)  # key -> FailureKind value
    error: str = ""

    def count(self, *kinds: FailureKind | str) -> int:
        wanted = {str(kind) for kind in kinds}
        return sum(1 for kind in self.failure_kinds.values() if kind in wanted)

    @property
    def spent(self) -> str:
        """What this run's calls cost, 'unknown' rather than $0 when nobody knows."""
        return format_cost(self.charged_usd, self.called, self.unpriced_calls)

    @property
    def stopped_the_run(self) -> bool:
        """A failure says no further call can succeed (rejected key, no credit, no key)."""
        return self.count(*STOPS_THE_RUN) > 0

    def merge(self, other: StageReport) -> None:
        self.run_ok = self.run_ok and other.run_ok
        self.materialized += other.materialized
        self.called += other.called
        self.reused += other.reused
        self.charged_usd += other.charged_usd
        self.unpriced_calls += other.unpriced_calls
        self.failures.update(other.failures)
        self.failure_kinds.update(other.failure_kinds)
        self.error = self.error or other.error


def write_report(path: Path, report: StageReport) -> None:
    path.write_text(json.dumps(asdict(report)), encoding="utf-8")


def read_report(path: Path) -> StageReport:
    return StageReport(**json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class CheckOutcome:
    name: str  # "<check> on <asset>"
    passed: bool
    description: str


def check_results(result: ExecuteInProcessResult) -> list[CheckOutcome]:
    """Every asset check the run evaluated, with its description."""
    return [
        CheckOutcome(
            f"{evaluation.check_name} on {evaluation.asset_key.to_user_string()}",
            evaluation.passed,
            evaluation.description or "",
        )
        for evaluation in result.get_asset_check_evaluations()
    ]


def first_failure_message(result: ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            data = event.event_specific_data
            if data.user_failure_data and data.user_failure_data.description:
                return data.user_failure_data.description
            message = data.error.message.strip() if data.error else "step failed"
            return message.splitlines()[0][:300]
    return "run failed"


def stage_report(label: str, result: ExecuteInProcessResult) -> StageReport:
    """What an in-process batch run did (see ``tallied_report``)."""
    error = "" if result.success else first_failure_message(result)
    return tallied_report(label, result.run_id, result.success, error)


def tallied_report(label: str, run_id: str, success: bool, error: str = "") -> StageReport:
    """What a batch run did, from the tally its step wrote when it ended (see
    assets.batch_stage.Tally: a file on this machine, or a database row when the instance is on
    PostgreSQL, so runs on other machines report too), and why it failed when it did."""
    report = StageReport(label, run_ok=success)
    tally = read_tally(run_id)
    if tally is not None:
        report.called, report.reused = tally.called, tally.reused
        report.materialized = tally.called + tally.reused
        report.charged_usd, report.unpriced_calls = tally.charged_usd, tally.unpriced_calls
        report.failures, report.failure_kinds = dict(tally.failures), dict(tally.failure_kinds)
    if not success:
        report.error = error or "run failed"
    if (tally is not None and tally.interrupted) or "InterruptedError" in report.error:
        report.error = INTERRUPTED
    return report


def usage_by_model(folders: list[Path]) -> list[dict]:
    """Answers, tokens and cost per model over every stored call record in ``folders``.

    ``unpriced`` counts the answers whose cost is unknown (the server reported none and the
    models CSV gives no price), so that they are never added up as $0."""
    totals: dict[str, dict] = defaultdict(
        lambda: {
            "answers": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cost_usd": 0.0,
            "unpriced": 0,
        }
    )
    for folder in folders:
        for record in read_records(folder):
            row = totals[str(record.get("requested_model"))]
            row["answers"] += 1
            row["prompt_tokens"] += int(record.get("prompt_tokens") or 0)
            row["completion_tokens"] += int(record.get("completion_tokens") or 0)
            if record.get("cost_usd") is None:
                row["unpriced"] += 1
            else:
                row["cost_usd"] += float(record["cost_usd"])
    return [{"model": model, **row} for model, row in sorted(totals.items())]


def format_cost(cost_usd: float, answers: int, unpriced: int) -> str:
    """'$x' when every answer's cost is known, 'unknown' when none is, '$x+?' for a mix."""
    if answers and unpriced >= answers:
        return "unknown"
    return f"${cost_usd:.4f}" + ("+?" if unpriced else "")


def format_spent(spent_usd: float, reports: list[StageReport]) -> str:
    """The run's total spending, as ``StageReport.spent`` says it for one stage."""
    return format_cost(
        spent_usd, sum(r.called for r in reports), sum(r.unpriced_calls for r in reports)
    )


def format_usage(rows: list[dict]) -> str:
    lines = [f"  {'model':<40}{'answers':>8}{'prompt tok':>12}{'answer tok':>12}{'cost':>12}"]
    for row in rows:
        cost = format_cost(row["cost_usd"], row["answers"], row["unpriced"])
        lines.append(
            f"  {row['model'][:39]:<40}{row['answers']:>8}{row['prompt_tokens']:>12,}"
            f"{row['completion_tokens']:>12,}{cost:>12}"
        )
    total_cost = format_cost(
        sum(r["cost_usd"] for r in rows),
        sum(r["answers"] for r in rows),
        sum(r["unpriced"] for r in rows),
    )
    lines.append(
        f"  {'total':<40}{sum(r['answers'] for r in rows):>8}"
        f"{sum(r['prompt_tokens'] for r in rows):>12,}"
        f"{sum(r['completion_tokens'] for r in rows):>12,}{total_cost:>12}"
    )
    if any(r["unpriced"] for r in rows):
        lines.append(
            "  unknown / +?: answers whose cost the server did not report and whose model has no "
            "price in the CSV (+? follows the known part)"
        )
    return "\n".join(lines)
