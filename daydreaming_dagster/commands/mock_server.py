"""``daydreaming mock-server``: a local OpenAI-compatible endpoint with canned answers."""

from __future__ import annotations

import argparse

NAME = "mock-server"


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
        help="simulate OpenRouter's free tier for ':free' models, e.g. 20,50",
    )


def main(args: argparse.Namespace) -> int:
    from ..mock_server import FreeTier, run_mock_server

    tier = None
    if args.free_tier:
        per_minute, per_day = (int(part) for part in args.free_tier.split(","))
        tier = FreeTier(per_minute=per_minute, per_day=per_day)
    run_mock_server(args.host, args.port, args.latency, tier)
    return 0
