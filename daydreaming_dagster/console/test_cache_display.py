"""``daydreaming cache prune`` deletes only after a yes, or with --yes."""

from datetime import UTC, datetime, timedelta

from ..llm_calls.response_cache import ResponseCache
from .cache_display import cache_info_command, cache_prune_command


def old_cache(tmp_path):
    (tmp_path / "data" / "01_raw").mkdir(parents=True)
    root = tmp_path / "data" / "llm_cache"
    when = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    ResponseCache(root).put("ab" * 32, "old answer", {"created_at": when, "cost_usd": 0.25})
    return root


def entries(root) -> int:
    return len(list(root.rglob("*.json")))


def test_prune_asks_and_a_no_keeps_everything(tmp_path, capsys):
    root = old_cache(tmp_path)
    data = str(tmp_path / "data")
    asked = []
    code = cache_prune_command(data, 7, yes=False, ask=lambda q: asked.append(q) or "n",
                               interactive=True)  # fmt: skip
    assert code == 0 and asked and entries(root) == 1
    assert "1 cached answers are older than 7 days" in capsys.readouterr().out
    assert cache_prune_command(data, 7, yes=False, ask=lambda q: "y", interactive=True) == 0
    assert entries(root) == 0


def test_prune_without_a_terminal_needs_yes(tmp_path, capsys):
    root = old_cache(tmp_path)
    data = str(tmp_path / "data")
    assert cache_prune_command(data, 7, yes=False, interactive=False) == 2
    assert entries(root) == 1 and "--yes" in capsys.readouterr().err
    assert cache_prune_command(data, 60, yes=True) == 0 and entries(root) == 1  # not that old
    assert cache_prune_command(data, 7, yes=True) == 0 and entries(root) == 0


def test_info_says_calls_size_and_spend(tmp_path, capsys):
    old_cache(tmp_path)
    assert cache_info_command(str(tmp_path / "data")) == 0
    out = capsys.readouterr().out
    assert "1 calls" in out and "$0.2500 paid" in out
    assert cache_info_command(str(tmp_path / "nowhere")) == 2
