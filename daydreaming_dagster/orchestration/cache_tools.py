"""``daydreaming cache info`` and ``cache prune``: what the response cache holds, and removing
entries older than a number of days (the console asks first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ..llm_calls.cache_inventory import (
    CacheEntry,
    CacheSummary,
    delete,
    older_than,
    scan,
    summarize,
)
from .report_command import layout_for


def cache_summary(data_root: str) -> CacheSummary:
    root = layout_for(data_root).response_cache
    return summarize(root, scan(root))


@dataclass(frozen=True)
class PrunePlan:
    days: float
    entries: list[CacheEntry]
    kept: int

    @property
    def size_bytes(self) -> int:
        return sum(entry.size for entry in self.entries)

    @property
    def spend_usd(self) -> float:
        return sum(entry.cost_usd or 0.0 for entry in self.entries)


def prune_plan(data_root: str, days: float, now: datetime | None = None) -> PrunePlan:
    """The entries older than ``days`` days; nothing is removed yet."""
    if days < 0:
        raise ValueError(f"--older-than must be 0 days or more, got {days}.")
    entries = list(scan(layout_for(data_root).response_cache))
    old = older_than(entries, days, now or datetime.now(UTC))
    return PrunePlan(days, old, len(entries) - len(old))


def prune(plan: PrunePlan) -> int:
    """Remove the plan's entries; returns how many were removed."""
    return delete(plan.entries)
