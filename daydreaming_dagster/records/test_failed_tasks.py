"""The failed tasks a run leaves for the report: merged across runs, unreadable means none."""

from .data_layout import DataLayout
from .failed_tasks import read_failed_tasks, record_failed_tasks


def test_failures_are_merged_and_a_newer_reason_wins(tmp_path):
    layout = DataLayout(tmp_path / "data")
    assert read_failed_tasks(layout) == {}
    record_failed_tasks(layout, {"a": "server_error: 503", "b": "timeout"})
    record_failed_tasks(layout, {})  # nothing failed: the file stays as it was
    record_failed_tasks(layout, {"b": "rate_limited"})
    assert read_failed_tasks(layout) == {"a": "server_error: 503", "b": "rate_limited"}
    layout.failed_tasks_file.write_text("not json", encoding="utf-8")
    assert read_failed_tasks(layout) == {}
