"""The tasks whose last attempt failed, and why: ``data/05_parsing/failed_tasks.json``.

A failed call leaves no answer file, so the files alone cannot tell a task that failed from
one never tried. ``daydreaming run`` records each failure here (key -> reason); the report
flags a task as failed while it is not done. Entries of earlier runs stay until the same task
fails again with another reason; a task done since is simply not flagged.
"""

from __future__ import annotations

import json

from .data_layout import DataLayout, write_json_atomic


def read_failed_tasks(layout: DataLayout) -> dict[str, str]:
    """key -> why its last attempt failed (empty when nothing was recorded or unreadable)."""
    try:
        data = json.loads(layout.failed_tasks_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    failures = data.get("failures", {}) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in failures.items()} if isinstance(failures, dict) else {}


def record_failed_tasks(layout: DataLayout, failures: dict[str, str]) -> None:
    """Add this run's failures (key -> reason) to the file, replacing older reasons."""
    if not failures:
        return
    merged = {**read_failed_tasks(layout), **failures}
    write_json_atomic(layout.failed_tasks_file, {"failures": merged})
