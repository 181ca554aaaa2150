from pathlib import Path

from .response_cache import ResponseCache, call_key, call_key_of_record


def test_the_key_changes_with_anything_that_changes_the_answer():
    base = call_key("http://x/v1", "m", "abc", 0.7, 100)
    assert base == call_key("http://x/v1/", "m", "abc", 0.7, 100)
    assert base != call_key("http://y/v1", "m", "abc", 0.7, 100)
    assert base != call_key("http://x/v1", "m2", "abc", 0.7, 100)
    assert base != call_key("http://x/v1", "m", "abd", 0.7, 100)
    assert base != call_key("http://x/v1", "m", "abc", 0.8, 100)
    assert base != call_key("http://x/v1", "m", "abc", 0.7, 101)


def test_a_stored_record_gives_back_its_key():
    record = {
        "base_url": "http://x/v1",
        "requested_model": "m",
        "prompt_sha256": "abc",
        "temperature": 0.7,
        "max_tokens": 100,
    }
    assert call_key_of_record(record) == call_key("http://x/v1", "m", "abc", 0.7, 100)
    assert call_key_of_record({"requested_model": "m"}) is None


def test_put_then_get_and_corrupt_entries_count_as_missing(tmp_path: Path):
    cache = ResponseCache(tmp_path)
    key = call_key("http://x/v1", "m", "abc", 0.7, 100)
    assert cache.get(key) is None
    cache.put(key, "the answer", {"cost_usd": 0.01})
    hit = cache.get(key)
    assert hit is not None and hit.text == "the answer" and hit.record == {"cost_usd": 0.01}
    cache.path_for(key).write_text("{ half a file", encoding="utf-8")
    assert cache.get(key) is None
