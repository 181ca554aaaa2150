"""Runs kept apart: each run's report in a folder of its own, and the list of every run with
its headline figures side by side.

A run is named by when its summaries were made (``run-YYYYMMDD-HHMMSS``, from
``summary_context.json``), so writing the report again for the same results replaces that
run's folder and a new run gets a new one. Issue 13's cohorts (``data/cohorts/<id>/`` with
``manifest.json`` and copies of that run's ``summary_context.json`` and ``headline.csv``) are
matched to these runs by that same time; a cohort without a report is listed too, unlinked.
Without cohort folders the list is built from the report folders alone.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..experiment.summary_context import SummaryContext

RUNS_DIR = "runs"
RUN_FILE = "run.json"
NO_SUMMARY_RUN = "run-unsummarised"


def run_id_for(context: SummaryContext | None) -> str:
    """``run-20261206-234725`` from the time the summaries were made."""
    if context is None:
        return NO_SUMMARY_RUN
    digits = re.sub(r"\D", "", context.made_at)[:14]
    return f"run-{digits[:8]}-{digits[8:14]}" if len(digits) >= 14 else NO_SUMMARY_RUN


@dataclass
class Headline:
    columns: list[str]
    rows: list[list[str]]


def read_headline(path: Path) -> Headline | None:
    if not path.exists():
        return None
    with path.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    return Headline(lines[0], lines[1:]) if lines else None


def _as_share(value: float) -> str:
    return f"{value:.0%}" if 0 <= value <= 1 else f"{value:.2f}"


def _find(columns: list[str], *words: str, avoid: tuple[str, ...] = ()) -> str | None:
    for column in columns:
        name = column.lower()
        if any(w in name for w in words) and not any(a in name for a in avoid):
            return column
    return None


def headline_figures(headline: Headline) -> tuple[str, dict[str, str]]:
    """One figure per generation model from a headline table: its rate (the first column
    named like a rate that is not a control's pass rate) with its interval when there is one
    ('12% [5%, 25%]'). Returns the figure's label and model -> figure."""
    columns = headline.columns
    if not columns:
        return "", {}
    model = "generation_model" if "generation_model" in columns else columns[0]
    rate = _find(columns, "rate", avoid=("pass", "control")) or (
        columns[1] if len(columns) > 1 else None
    )
    low = _find(columns, "ci95_low", "low", "lower")
    high = _find(columns, "ci95_high", "high", "upper")
    figures = {}
    for row in headline.rows:
        cells = dict(zip(columns, row, strict=False))
        text = cells.get(rate or "", "")
        try:
            text = _as_share(float(text))
            if low and high:
                text += f" [{_as_share(float(cells[low]))}, {_as_share(float(cells[high]))}]"
        except (ValueError, KeyError):
            pass
        figures[cells.get(model, "")] = text
    return rate or "", figures


def fallback_figures(summary: Path) -> tuple[str, dict[str, str]]:
    """Before issue 13's headline exists: each model's mean score on the daydreaming-loop
    rubric (or the first evaluation template) with its interval, labelled as such."""
    path = summary / "by_generation_model.csv"
    if not path.exists():
        return "", {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    templates = sorted({r.get("evaluation_template", "") for r in rows})
    if not templates:
        return "", {}
    chosen = next((t for t in templates if "daydreaming" in t), templates[0])
    figures = {}
    for row in rows:
        if row.get("evaluation_template") != chosen:
            continue
        try:
            figures[row["generation_model"]] = (
                f"{float(row['mean']):.2f} [{float(row['ci95_low']):.2f}, "
                f"{float(row['ci95_high']):.2f}]"
            )
        except (KeyError, ValueError):
            figures[row.get("generation_model", "")] = row.get("mean", "")
    return f"mean score on {chosen} (no headline.csv)", figures


def selection_text(context: SummaryContext | None) -> str:
    if context is None:
        return ""
    k = ", ".join(map(str, context.k_values))
    return (
        f"{len(context.concepts)} concepts, k = {k}, {len(context.generation_templates)} "
        f"generation templates, {len(context.generation_models)} generators, "
        f"{len(context.evaluation_models)} judges, "
        f"{len(context.evaluation_templates)} evaluation templates"
    )


def run_record(
    run_id: str,
    context: SummaryContext | None,
    summary: Path,
    counts: dict[str, dict[str, int]],
    written_at: str,
) -> dict[str, Any]:
    """What ``run.json`` keeps of a run, for the list of runs."""
    headline = read_headline(summary / "headline.csv")
    label, figures = headline_figures(headline) if headline else fallback_figures(summary)
    return {
        "run_id": run_id,
        "made_at": context.made_at if context else "",
        "inputs_fingerprint": context.inputs_fingerprint if context else "",
        "report_written_at": written_at,
        "endpoint_host": context.endpoint_host if context else "",
        "selection": selection_text(context),
        "counts": counts,
        "headline": {"columns": headline.columns, "rows": headline.rows} if headline else None,
        "figure_label": label,
        "figures": figures,
    }


@dataclass
class Cohort:
    cohort_id: str
    created: str
    git_commit: str
    made_at: str
    headline: Headline | None


def read_cohorts(folder: Path) -> list[Cohort]:
    """Every ``<folder>/<id>/manifest.json`` that can be read (none when there is no folder)."""
    cohorts = []
    for manifest in sorted(folder.glob("*/manifest.json")) if folder.exists() else []:
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        data = data if isinstance(data, dict) else {}
        context_file = manifest.parent / "summary_context.json"
        try:
            made_at = json.loads(context_file.read_text(encoding="utf-8")).get("made_at", "")
        except (OSError, ValueError, AttributeError):
            made_at = ""
        cohorts.append(
            Cohort(
                cohort_id=str(data.get("id") or data.get("cohort_id") or manifest.parent.name),
                created=str(data.get("created_at") or data.get("created") or made_at),
                git_commit=str(data.get("git_commit") or data.get("commit") or ""),
                made_at=made_at,
                headline=read_headline(manifest.parent / "headline.csv"),
            )
        )
    return cohorts


@dataclass
class RunEntry:
    run_id: str
    when: str
    href: str | None  # from the report's root folder; None for a cohort without a report
    cohort_id: str = ""
    git_commit: str = ""
    endpoint: str = ""
    selection: str = ""
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    headline: Headline | None = None
    figure_label: str = ""
    figures: dict[str, str] = field(default_factory=dict)
    latest: bool = False


def read_run_records(report_root: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted((report_root / RUNS_DIR).glob(f"*/{RUN_FILE}")):
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return records


def list_runs(report_root: Path, cohorts: list[Cohort], latest: str) -> list[RunEntry]:
    """Every run with a report, and every cohort without one, newest first."""
    by_time = {c.made_at: c for c in cohorts if c.made_at}
    entries, matched = [], set()
    for record in read_run_records(report_root):
        cohort = by_time.get(record.get("made_at", ""))
        if cohort is not None:
            matched.add(cohort.cohort_id)
        headline = record.get("headline")
        entries.append(
            RunEntry(
                run_id=record["run_id"],
                when=record.get("made_at") or record.get("report_written_at", ""),
                href=f"{RUNS_DIR}/{record['run_id']}/index.html",
                cohort_id=cohort.cohort_id if cohort else "",
                git_commit=cohort.git_commit if cohort else "",
                endpoint=record.get("endpoint_host", ""),
                selection=record.get("selection", ""),
                counts=record.get("counts", {}),
                headline=Headline(headline["columns"], headline["rows"]) if headline else None,
                figure_label=record.get("figure_label", ""),
                figures=record.get("figures", {}),
                latest=record["run_id"] == latest,
            )
        )
    for cohort in cohorts:
        if cohort.cohort_id in matched:
            continue
        label, figures = headline_figures(cohort.headline) if cohort.headline else ("", {})
        entries.append(
            RunEntry(
                run_id=cohort.cohort_id,
                when=cohort.made_at or cohort.created,
                href=None,
                cohort_id=cohort.cohort_id,
                git_commit=cohort.git_commit,
                headline=cohort.headline,
                figure_label=label,
                figures=figures,
            )
        )
    return sorted(entries, key=lambda e: e.when, reverse=True)
