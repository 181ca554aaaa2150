"""What the response cache holds (calls, bytes, what they cost) and removing old entries.

Each entry is one paid-for answer (see ``response_cache``); its age is the time its call
record says it was answered, or the file's modification time when the record has none. An
entry removed here is paid for again the next time a run needs the same call.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path


@dataclass(frozen=True)
class CacheEntry:
    path: Path
    size: int
    model: str
    cost_usd: float | None
    answered_at: datetime


@dataclass
class CacheSummary:
    root: Path
    calls: int = 0
    size_bytes: int = 0
    spend_usd: float = 0.0  # over the entries whose cost is known
    unpriced_calls: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None
    per_model: dict[str, tuple[int, float]] = field(default_factory=dict)  # calls, spend


def _when(record: dict, path: Path, size_stat: os.stat_result) -> datetime:
    text = str(record.get("created_at") or "")
    try:
        when = datetime.fromisoformat(text)
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    except ValueError:
        return datetime.fromtimestamp(size_stat.st_mtime, tz=UTC)


def scan(root: Path) -> Iterator[CacheEntry]:
    """Every entry under ``root`` (none when it does not exist); unreadable ones count with
    what the file system says of them."""
    if not root.exists():
        return
    for path in sorted(root.glob("*/*.json")):
        try:
            stat = path.stat()
        except OSError:
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8")).get("record") or {}
        except (OSError, ValueError, AttributeError):
            record = {}
        cost = record.get("cost_usd")
        yield CacheEntry(
            path=path,
            size=stat.st_size,
            model=str(record.get("requested_model") or "unknown"),
            cost_usd=float(cost) if isinstance(cost, int | float) else None,
            answered_at=_when(record, path, stat),
        )


def summarize(root: Path, entries: Iterable[CacheEntry]) -> CacheSummary:
    summary = CacheSummary(root)
    per_model: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for entry in entries:
        summary.calls += 1
        summary.size_bytes += entry.size
        if entry.cost_usd is None:
            summary.unpriced_calls += 1
        else:
            summary.spend_usd += entry.cost_usd
        per_model[entry.model][0] += 1
        per_model[entry.model][1] += entry.cost_usd or 0.0
        if summary.oldest is None or entry.answered_at < summary.oldest:
            summary.oldest = entry.answered_at
        if summary.newest is None or entry.answered_at > summary.newest:
            summary.newest = entry.answered_at
    summary.per_model = {m: (int(n), cost) for m, (n, cost) in sorted(per_model.items())}
    return summary


def older_than(entries: Iterable[CacheEntry], days: float, now: datetime) -> list[CacheEntry]:
    """The entries answered more than ``days`` days before ``now``."""
    cutoff = now - timedelta(days=days)
    return [entry for entry in entries if entry.answered_at < cutoff]


def delete(entries: Iterable[CacheEntry]) -> int:
    """Remove the entries (and fan-out folders left empty); returns how many were removed."""
    removed = 0
    folders = set()
    for entry in entries:
        try:
            entry.path.unlink()
            removed += 1
            folders.add(entry.path.parent)
        except FileNotFoundError:
            continue
    for folder in folders:
        try:
            folder.rmdir()  # only when empty
        except OSError:
            pass
    return removed
