"""Dynamic partitions: one per generation task and one per evaluation task."""

from collections.abc import Sequence

import pandas as pd
from dagster import (
    AssetExecutionContext,
    DagsterInstance,
    DynamicPartitionsDefinition,
    MaterializeResult,
    asset,
)

generation_tasks_partitions = DynamicPartitionsDefinition(name="generation_tasks")
evaluation_tasks_partitions = DynamicPartitionsDefinition(name="evaluation_tasks")


# Keys per add_dynamic_partitions call: Dagster checks a batch for existing keys with one
# "IN (...)" query, so one call with 100,000 keys exceeds SQLite's variable limit on builds that
# keep the old 999 default, and holds one long write transaction on any database.
ADD_CHUNK = 900


def add_partitions(instance: DagsterInstance, name: str, keys: Sequence[str]) -> None:
    """Register ``keys`` (in order) in chunks, through Dagster's public API."""
    for start in range(0, len(keys), ADD_CHUNK):
        instance.add_dynamic_partitions(name, keys[start : start + ADD_CHUNK])


def delete_partitions(instance: DagsterInstance, name: str, keys: Sequence[str]) -> None:
    """Remove ``keys``: in chunks when the event log storage can (see
    instance.bulk_partitions), else one key per call, which Dagster makes one transaction each."""
    bulk = getattr(instance.event_log_storage, "delete_dynamic_partitions", None)
    if bulk is not None:
        bulk(name, list(keys))
        return
    for key in keys:
        instance.delete_dynamic_partition(name, key)


def sync_partitions(
    instance: DagsterInstance, partitions: DynamicPartitionsDefinition, wanted: list[str]
) -> tuple[int, int]:
    """Make the instance's partition set equal ``wanted``; returns (added, removed)."""
    name = partitions.name
    existing = set(instance.get_dynamic_partitions(name))
    wanted_set = set(wanted)
    to_add = [key for key in dict.fromkeys(wanted) if key not in existing]
    to_remove = sorted(existing - wanted_set)
    if to_add:
        add_partitions(instance, name, to_add)
    if to_remove:
        delete_partitions(instance, name, to_remove)
    return len(to_add), len(to_remove)


@asset(group_name="task_definitions", kinds={"dagster"})
def task_definitions(
    context: AssetExecutionContext, generation_tasks: pd.DataFrame, evaluation_tasks: pd.DataFrame
) -> MaterializeResult:
    """Register every task id as a partition and drop partitions whose task is gone.

    Must run before any generation or evaluation partition can be materialized.
    """
    counts = {}
    for label, partitions, ids in (
        ("generation", generation_tasks_partitions, generation_tasks["generation_task_id"]),
        ("evaluation", evaluation_tasks_partitions, evaluation_tasks["evaluation_task_id"]),
    ):
        added, removed = sync_partitions(context.instance, partitions, list(ids))
        context.log.info(
            f"{label}: {len(ids)} partitions ({added} added, {removed} removed) "
            f"in partition set '{partitions.name}'"
        )
        counts[f"{label}_partitions"] = len(ids)
        counts[f"{label}_added"] = added
        counts[f"{label}_removed"] = removed
    return MaterializeResult(metadata=counts)
