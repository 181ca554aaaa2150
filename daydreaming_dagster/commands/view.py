"""``daydreaming view``: serve the report on 127.0.0.1 and print its address."""

from __future__ import annotations

import argparse

NAME = "view"


def add_parser(commands) -> None:
    command = commands.add_parser(
        NAME, help="serve the HTML report on 127.0.0.1 (writing it first if there is none)"
    )
    command.add_argument("--data-root", default="data", help="data folder (default: data)")
    command.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    command.add_argument("--port", type=int, default=8700, help="port (default 8700; 0: any)")


def main(args: argparse.Namespace) -> int:
    from ..console.report_display import view_command

    return view_command(args.data_root, args.host, args.port)
