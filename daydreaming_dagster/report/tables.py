"""The overview's tables: the headline answer exactly as ``headline.csv`` has it, then the
summary tables of ``data/06_summary`` with their 95% intervals shown as ``[low, high]``.

The report reads whichever of these files exist; it computes no statistic itself.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .sources import read_rows

HEADLINE_FILE = "headline.csv"
# (file stem, title), in the order the overview shows them; missing files are skipped.
SUMMARY_TABLES = [
    ("by_generation_model", "Per generation model"),
    ("by_generation_template", "Per generation template"),
    ("by_evaluation_model", "Per judge"),
    ("by_evaluation_template", "Per evaluation template"),
    ("judge_reliability", "Judge reliability"),
    ("paired_model_comparisons", "Paired model comparisons"),
    ("judge_vs_human", "Judges against human reviewers"),
    ("judge_agreement", "Judge agreement (Spearman's rho per pair of judges)"),
    ("judge_bias", "Judge bias (mean offset from the other judges)"),
    ("top_responses", "Best generations"),
    ("consensus_high", "Generations every judge scored 8 or more"),
    ("replicate_spread", "Spread between generation replicates"),
    ("by_combination", "Per combination"),
]
MAX_ROWS = 60
INTERVAL = ("ci95_low", "ci95_high")
LINKED_COLUMNS = ("generation_task_id",)


@dataclass(frozen=True)
class Cell:
    text: str
    href: str | None = None
    numeric: bool = False


@dataclass
class TableView:
    table_id: str
    title: str
    source: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    more_rows: int = 0

    @property
    def source_name(self) -> str:
        return Path(self.source).name


def format_number(text: str) -> tuple[str, bool]:
    """A cell's text for reading: floats to 2 decimals (small ones to 2 significant figures),
    whole numbers and words as they are. Returns the text and whether it is a number."""
    try:
        value = float(text)
    except ValueError:
        return text, False
    if math.isnan(value):
        return "", True
    if "." not in text and "e" not in text.lower():
        return text, True
    if value == 0 or abs(value) >= 0.01:
        return f"{value:.2f}", True
    return f"{value:.2g}", True


def read_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    """A CSV file's header and rows, every cell exactly as written."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    return (lines[0], lines[1:]) if lines else ([], [])


def headline_table(summary: Path) -> TableView | None:
    """``headline.csv`` verbatim (every column, every cell as written), or None when missing."""
    path = summary / HEADLINE_FILE
    if not path.exists():
        return None
    columns, rows = read_cells(path)
    return TableView(
        table_id="headline",
        title="Headline answer",
        source=str(path),
        columns=columns,
        rows=[[Cell(cell) for cell in row] for row in rows],
    )


def summary_table(
    path: Path, title: str, link: Callable[[str], str | None], max_rows: int = MAX_ROWS
) -> TableView:
    """One summary CSV, numbers formatted, ``ci95_low``/``ci95_high`` as one interval column,
    generation ids linked to their pages."""
    rows = read_rows(path)
    columns = list(rows[0].keys()) if rows else read_cells(path)[0]
    shown = [c for c in columns if c != INTERVAL[1]]
    view = TableView(
        table_id=f"table-{path.stem.replace('_', '-')}",
        title=title,
        source=str(path),
        columns=["95% interval" if c == INTERVAL[0] else c for c in shown],
        more_rows=max(0, len(rows) - max_rows),
    )
    with_interval = INTERVAL[1] in columns
    for row in rows[:max_rows]:
        cells = []
        for column in shown:
            if column == INTERVAL[0] and with_interval:
                low, _ = format_number(row.get(INTERVAL[0], ""))
                high, _ = format_number(row.get(INTERVAL[1], ""))
                cells.append(Cell(f"[{low}, {high}]" if low or high else "", numeric=True))
                continue
            text, numeric = format_number(row.get(column, "") or "")
            href = link(text) if column in LINKED_COLUMNS else None
            cells.append(Cell(text, href, numeric))
        view.rows.append(cells)
    return view


def summary_tables(summary: Path, link: Callable[[str], str | None]) -> list[TableView]:
    """Every summary table there is, in ``SUMMARY_TABLES`` order."""
    return [
        summary_table(summary / f"{stem}.csv", title, link)
        for stem, title in SUMMARY_TABLES
        if (summary / f"{stem}.csv").exists()
    ]


def chart_files(summary: Path) -> list[Path]:
    """The summary's charts (PNG files), by name."""
    return sorted(summary.glob("*.png")) if summary.exists() else []
