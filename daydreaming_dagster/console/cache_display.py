"""What ``daydreaming cache info`` and ``cache prune`` print; prune asks before it deletes."""

from __future__ import annotations

import sys
from collections.abc import Callable

from ..llm_calls.cache_inventory import CacheSummary
from ..orchestration.cache_tools import cache_summary, prune, prune_plan
from .exit_codes import ExitCode


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} B"


def info_lines(summary: CacheSummary) -> list[str]:
    if not summary.calls:
        return [f"The response cache {summary.root} is empty."]
    unpriced = f" ({summary.unpriced_calls} of unknown cost)" if summary.unpriced_calls else ""
    lines = [
        f"Response cache {summary.root}:",
        f"  {summary.calls:,} calls, {_size(summary.size_bytes)}, "
        f"${summary.spend_usd:,.4f} paid for them{unpriced}",
        f"  answered from {summary.oldest:%Y-%m-%d %H:%M} to {summary.newest:%Y-%m-%d %H:%M} UTC",
        f"  {'model':<44}{'calls':>8}{'paid':>12}",
    ]
    for model, (calls, spend) in summary.per_model.items():
        lines.append(f"  {model[:43]:<44}{calls:>8,}{'$' + format(spend, ',.4f'):>12}")
    return lines


def cache_info_command(data_root: str) -> int:
    try:
        summary = cache_summary(data_root)
    except FileNotFoundError as exc:
        print(f"Cannot read the cache: {exc}", file=sys.stderr)
        return ExitCode.CONFIG
    print("\n".join(info_lines(summary)))
    return ExitCode.DONE


def cache_prune_command(
    data_root: str,
    days: float,
    yes: bool,
    ask: Callable[[str], str] = input,
    interactive: bool | None = None,
) -> int:
    """Remove entries older than ``days`` days, after a yes at the prompt (or with --yes)."""
    try:
        plan = prune_plan(data_root, days)
    except (FileNotFoundError, ValueError) as exc:
        print(f"Cannot prune the cache: {exc}", file=sys.stderr)
        return ExitCode.CONFIG
    if not plan.entries:
        print(f"No cache entry is older than {days:g} days ({plan.kept:,} kept).")
        return ExitCode.DONE
    print(
        f"{len(plan.entries):,} cached answers are older than {days:g} days: "
        f"{_size(plan.size_bytes)}, ${plan.spend_usd:,.4f} paid for them ({plan.kept:,} kept). "
        "A run that needs one of these calls again pays for it again."
    )
    if not yes:
        interactive = sys.stdin.isatty() if interactive is None else interactive
        if not interactive:
            print("Nothing deleted: add --yes to delete without a question.", file=sys.stderr)
            return ExitCode.CONFIG
        try:
            answer = ask("Delete them? [y/N] ")
        except (EOFError, KeyboardInterrupt):
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return ExitCode.DONE
    print(f"Deleted {prune(plan):,} cached answers.")
    return ExitCode.DONE
