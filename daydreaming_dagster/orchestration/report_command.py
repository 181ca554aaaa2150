"""``daydreaming report`` and ``view``, and the report at the end of ``daydreaming run``.

Nothing here imports Dagster: the report is made from the files alone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..records.data_layout import DataLayout
from ..records.failed_tasks import record_failed_tasks
from ..report.writer import ReportResult, write_report


def layout_for(data_root: str) -> DataLayout:
    """The data folder, or FileNotFoundError saying to run from the repository root."""
    layout = DataLayout(Path(data_root))
    if not layout.raw.exists():
        raise FileNotFoundError(f"No raw data at {layout.raw}: run this from the repository root.")
    return layout


def make_report(data_root: str) -> ReportResult:
    """Write the report of the current results (its run's folder written anew)."""
    return write_report(layout_for(data_root))


def record_failures(layout: DataLayout, reports: list) -> None:
    """Keep this run's failed tasks (key -> reason) for the report (see records.failed_tasks)."""
    failures = {key: reason for report in reports for key, reason in report.failures.items()}
    record_failed_tasks(layout, failures)


@dataclass(frozen=True)
class ReportRefresh:
    result: ReportResult | None
    error: str = ""


def refresh_report(layout: DataLayout) -> ReportRefresh:
    """The report at the end of a run: the run's folder is kept when the summary step already
    wrote it from these summaries, and the root pages (newest run, list of runs) are written
    again. A report that cannot be written is reported, never raised: the run's results stand."""
    try:
        return ReportRefresh(write_report(layout, reuse_current=True))
    except Exception as exc:  # noqa: BLE001 - the run is over; say what went wrong, go on
        return ReportRefresh(None, f"{type(exc).__name__}: {exc}")


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        return


def report_server(folder: Path, host: str = "127.0.0.1", port: int = 8700) -> ThreadingHTTPServer:
    """An HTTP server of the report's folder (not yet serving: call ``serve_forever``); raises
    OSError when the port is taken."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    return ThreadingHTTPServer((host, port), handler)
