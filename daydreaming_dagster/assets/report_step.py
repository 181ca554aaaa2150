"""What ``final_results`` adds at its end: the headline table in plain view in the UI, and the
static report written again from the new summaries, with its address.

The UI shows a table value in place (a markdown value only behind a "[Show Markdown]" link), so
the headline is a table: ``headline.csv`` cell for cell, or one row saying it is not available
yet. A report that cannot be written never fails the summaries; the metadata says why.
"""

from __future__ import annotations

import csv
from typing import Any

from dagster import MetadataValue, TableColumn, TableRecord, TableSchema

from ..records.data_layout import DataLayout
from ..report.writer import write_report

HEADLINE_MISSING = (
    "not available yet: data/06_summary/headline.csv does not exist (the reinvention rate per "
    "generation model and the calibration controls' pass rates)"
)


def headline_metadata(layout: DataLayout) -> MetadataValue:
    """``headline.csv`` as a table value, every cell as written."""
    path = layout.summary / "headline.csv"
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            lines = list(csv.reader(handle))
    except OSError:
        lines = []
    if not lines:
        return MetadataValue.table(
            records=[TableRecord({"headline": HEADLINE_MISSING})],
            schema=TableSchema(columns=[TableColumn("headline", "string")]),
        )
    columns = lines[0]
    return MetadataValue.table(
        records=[TableRecord(dict(zip(columns, row, strict=False))) for row in lines[1:]],
        schema=TableSchema(columns=[TableColumn(c, "string") for c in columns]),
    )


def report_metadata(layout: DataLayout, log: Any) -> dict[str, Any]:
    """Write the report; the headline and the report's address (same keys on every path)."""
    index = layout.report / "index.html"
    error = ""
    seconds = 0.0
    try:
        result = write_report(layout)
        seconds = round(result.seconds, 3)
    except Exception as exc:  # the summaries are written; a broken report must not undo that
        error = f"{type(exc).__name__}: {exc}"
        log.warning(f"The report could not be written: {error}")
    return {
        "headline": headline_metadata(layout),
        "report": MetadataValue.url(index.resolve().as_uri()),
        "report_path": MetadataValue.path(str(index)),
        "report_view": "uv run daydreaming view (serves it on 127.0.0.1), or open report_path",
        "report_seconds": seconds,
        "report_error": error,
    }
