"""``daydreaming estimate``: the plan of a run, from the raw files alone.

No Dagster run and no model call: the task tables are built in memory exactly as the setup
assets would build them (``records.task_tables``), and each task's state is decided from the
files as a run decides it (``cost_estimate``). Nothing is written, not even the registry of
combination ids; Dagster is never imported, so the answer comes in about a second.
"""

from __future__ import annotations

from pathlib import Path

from ..llm_calls.endpoint import resolve_base_url
from ..records.data_layout import DataLayout
from ..records.task_tables import planned_task_tables
from .cost_estimate import Plan, estimate
from .options import RunOptions


def estimate_now(options: RunOptions) -> Plan:
    """What ``daydreaming run`` with the same options would do (FileNotFoundError or
    ValueError, with what to fix, for missing or bad inputs)."""
    from dotenv import find_dotenv, load_dotenv

    load_dotenv(find_dotenv(usecwd=True), override=False)
    layout = DataLayout(Path(options.data_root))
    if not layout.raw.exists():
        raise FileNotFoundError(f"No raw data at {layout.raw}: run this from the repository root.")
    tables = planned_task_tables(layout, options.selection.table_settings())
    return estimate(layout, resolve_base_url(), reuse=not options.force, tables=tables)
