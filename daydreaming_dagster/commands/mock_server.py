"""``daydreaming mock-server``: a local OpenAI-compatible endpoint with canned answers."""

from __future__ import annotations

import argparse
import sys

from ..console.exit_codes import ExitCode
from ..console.port_errors import cannot_serve

NAME = "mock-server"


def free_tier_limits(text: str) -> tuple[int, int]:
    try:
        per_minute, per_day = (int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected two whole numbers, PER_MINUTE,PER_DAY, e.g. 20,50"
        ) from None
    return per_minute, per_day


def add_parser(commands) -> None:
    mock = commands.add_parser(
        NAME, help="serve a local OpenAI-compatible endpoint with canned answers"
    )
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=8765)
    mock.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    mock.add_argument(
        "--free-tier",
        metavar="PER_MINUTE,PER_DAY",
        type=free_tier_limits,
        help="simulate OpenRouter's free tier for ':free' models, e.g. 20,50",
    )


def main(args: argparse.Namespace) -> int:
    from ..mock_server import FreeTier, run_mock_server

    tier = None
    if args.free_tier:
        per_minute, per_day = args.free_tier
        tier = FreeTier(per_minute=per_minute, per_day=per_day)
    try:
        run_mock_server(args.host, args.port, args.latency, tier)
    except OSError as exc:
        print(cannot_serve(args.host, args.port, exc), file=sys.stderr)
        return ExitCode.CONFIG
    return 0
