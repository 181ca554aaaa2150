"""What the cache holds and removing old entries, on real cache files."""

import json
import os
from datetime import UTC, datetime, timedelta

from .cache_inventory import delete, older_than, scan, summarize
from .response_cache import ResponseCache

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def fill(root, ages_days: dict[str, float]) -> ResponseCache:
    cache = ResponseCache(root)
    for n, (model, age) in enumerate(ages_days.items()):
        when = (NOW - timedelta(days=age)).isoformat()
        record = {"requested_model": model.split("#")[0], "cost_usd": 0.5 if n else None,
                  "created_at": when}  # fmt: skip
        cache.put(f"{n:02d}" + "a" * 62, f"answer {n}", record)
    return cache


def test_summary_counts_calls_size_and_spend(tmp_path):
    root = tmp_path / "llm_cache"
    fill(root, {"m1#1": 1, "m1#2": 10, "m2": 40})
    summary = summarize(root, scan(root))
    assert summary.calls == 3 and summary.unpriced_calls == 1 and summary.spend_usd == 1.0
    assert summary.size_bytes == sum(p.stat().st_size for p in root.rglob("*.json"))
    assert summary.per_model == {"m1": (2, 0.5), "m2": (1, 0.5)}
    assert summary.oldest == NOW - timedelta(days=40) and summary.newest == NOW - timedelta(days=1)


def test_only_entries_older_than_the_cutoff_are_deleted(tmp_path):
    root = tmp_path / "llm_cache"
    cache = fill(root, {"m1#1": 1, "m1#2": 10, "m2": 40})
    old = older_than(scan(root), 7, NOW)
    assert sorted(e.model for e in old) == ["m1", "m2"]
    assert delete(old) == 2
    assert [e.model for e in scan(root)] == ["m1"] and cache.get("00" + "a" * 62) is not None
    assert sorted(p.name for p in root.iterdir()) == ["00"]  # emptied fan-out folders removed


def test_an_entry_without_a_date_is_aged_by_its_file(tmp_path):
    root = tmp_path / "llm_cache"
    path = root / "ab" / "ab.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"record": {}, "text": "x"}))
    stamp = (NOW - timedelta(days=3)).timestamp()
    os.utime(path, (stamp, stamp))
    assert [e.path for e in older_than(scan(root), 2, NOW)] == [path]
    assert older_than(scan(root), 4, NOW) == []
    assert summarize(tmp_path / "missing", scan(tmp_path / "missing")).calls == 0
