"""What ``daydreaming run`` prints while it works (the orchestration's ``RunDisplay``)."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from pathlib import Path

from ..experiment.task_state import TaskState
from ..orchestration.cost_estimate import Plan, set_aside_line
from ..orchestration.experiment_run import Project
from ..orchestration.run_reports import CheckOutcome, StageReport
from ..records.data_layout import DataLayout
from .progress import ProgressBoard

UP_TO_DATE = "Scores and summaries are up to date: nothing was answered since they were made."


class TerminalDisplay:
    def __init__(self) -> None:
        self.board = ProgressBoard()

    def say(self, text: str, error: bool = False) -> None:
        self.board.clear()
        print(text, file=sys.stderr if error else sys.stdout, flush=True)

    def started(self, project: Project, orphaned_runs: int) -> None:
        self.say(f"Dagster instance: {project.home}\nData folder: {project.layout.root.resolve()}")
        if orphaned_runs:
            self.say(f"Marked {orphaned_runs} run(s) of a killed daydreaming process as failed.")

    def checks_passed(self, checks: list[CheckOutcome]) -> None:
        if checks:
            names = ", ".join(check.name for check in checks)
            self.say(f"Validity checks: {len(checks)} passed ({names})")

    def calibration(self, layout: DataLayout, checks: list[CheckOutcome], error: str) -> None:
        import pandas as pd

        if error:
            self.say(f"Calibration failed: {error}", error=True)
            return
        table = pd.read_csv(layout.parsing / "calibration_scores.csv")
        wide = table.pivot_table(
            index=["evaluation_template", "evaluation_model"], columns="control", values="score"
        )
        self.say("Calibration (judge scores of the control texts):")
        self.say(wide.to_string(float_format=lambda v: f"{v:.1f}"))
        for check in checks:
            self.say(check_line(check))

    def plan(self, plan: Plan) -> None:
        for stage in ("generation", "evaluation"):
            counts = plan.status.counts(stage)
            self.say(
                f"{stage}: {counts[TaskState.DONE]} done, {counts[TaskState.STALE]} stale, "
                f"{counts[TaskState.TODO]} to do; {plan.expected_calls[stage]} calls to make"
            )
        aside = set_aside_line(plan.status)
        if aside:
            self.say(aside)

    def watching(self, folder: Path, label: str, expected: int) -> AbstractContextManager:
        return self.board.watching(folder, label, expected)

    def stage_finished(self, report: StageReport, seconds: float) -> None:
        self.say(
            f"{report.label}: {report.called} called, {report.reused} reused without a call, "
            f"{len(report.failures)} failed, {report.spent} spent ({seconds:.1f}s)"
        )

    def nothing_to_do(self, stage: str) -> None:
        self.say(f"{stage}: nothing to do")

    def results_up_to_date(self) -> None:
        self.say(UP_TO_DATE)


def check_line(check: CheckOutcome) -> str:
    return f"Check {check.name}: {'passed' if check.passed else 'WARNING'} ({check.description})"
