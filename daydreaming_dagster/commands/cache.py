"""``daydreaming cache info`` and ``daydreaming cache prune --older-than DAYS [--yes]``."""

from __future__ import annotations

import argparse

NAME = "cache"


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 days or more: {text!r}")
    return value


def add_parser(commands) -> None:
    command = commands.add_parser(NAME, help="what the response cache holds; remove old entries")
    actions = command.add_subparsers(dest="cache_action", required=True)
    info = actions.add_parser("info", help="calls, size on disk and what they cost")
    prune = actions.add_parser(
        "prune", help="delete cached answers older than DAYS days (asks first, or --yes)"
    )
    prune.add_argument("--older-than", type=_days, required=True, metavar="DAYS")
    prune.add_argument("--yes", action="store_true", help="delete without asking")
    for each in (info, prune):
        each.add_argument("--data-root", default="data", help="data folder (default: data)")


def main(args: argparse.Namespace) -> int:
    from ..console.cache_display import cache_info_command, cache_prune_command

    if args.cache_action == "info":
        return cache_info_command(args.data_root)
    return cache_prune_command(args.data_root, args.older_than, args.yes)
