"""What ``daydreaming report`` and ``view`` print, and the report line at the end of a run."""

from __future__ import annotations

import sys

from ..orchestration.report_command import ReportRefresh, make_report, report_server
from ..report.writer import ReportResult
from .exit_codes import ExitCode
from .port_errors import cannot_serve


def report_lines(result: ReportResult) -> list[str]:
    return [
        f"Report of {result.generations} generations and {result.evaluations} judgements "
        f"(run {result.run_id}) written in {result.seconds:.2f} s:",
        f"  {result.index}",
        f"  open {result.index.resolve().as_uri()}  (or: uv run daydreaming view)",
    ]


def refresh_lines(refresh: ReportRefresh) -> list[str]:
    """The end of ``daydreaming run``: where the report is, or why it is not."""
    if refresh.result is None:
        return [f"The report could not be written ({refresh.error}); try uv run daydreaming report"]
    return [f"Report: {refresh.result.index} (uv run daydreaming view serves it)"]


def report_command(data_root: str) -> int:
    try:
        result = make_report(data_root)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"Cannot write the report: {exc}", file=sys.stderr)
        return ExitCode.CONFIG
    print("\n".join(report_lines(result)))
    return ExitCode.DONE


def view_command(data_root: str, host: str, port: int) -> int:
    """Serve the report (written first when there is none) until Ctrl-C."""
    try:
        from ..orchestration.report_command import layout_for

        folder = layout_for(data_root).report
        if not (folder / "index.html").exists():
            print("\n".join(report_lines(make_report(data_root))))
        server = report_server(folder, host, port)
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"Cannot serve the report: {exc}", file=sys.stderr)
        return ExitCode.CONFIG
    except OSError as exc:
        print(cannot_serve(host, port, exc), file=sys.stderr)
        return ExitCode.CONFIG
    bound_host, bound_port = server.server_address[:2]
    print(f"Serving {folder} at http://{bound_host}:{bound_port}/  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nStopped.")
    finally:
        server.server_close()
    return ExitCode.DONE
