"""``daydreaming report``: write the static HTML report of the current results."""

from __future__ import annotations

import argparse

NAME = "report"


def add_parser(commands) -> None:
    command = commands.add_parser(
        NAME,
        help="write the HTML report of the current results to data/06_summary/report "
        "(open index.html; no server needed)",
    )
    command.add_argument("--data-root", default="data", help="data folder (default: data)")


def main(args: argparse.Namespace) -> int:
    from ..console.report_display import report_command

    return report_command(args.data_root)
