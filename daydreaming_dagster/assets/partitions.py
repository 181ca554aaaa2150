"""Dynamic partitions: one per generation task and one per evaluation task."""

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


def sync_partitions(
    instance: DagsterInstance, partitions: DynamicPartitionsDefinition, wanted: list[str]
) -> tuple[int, int]:
    """Make the instance's partition set equal ``wanted``; returns (added, removed)."""
    name = partitions.name
    existing = set(instance.get_dynamic_partitions(name))
    to_add = [key for key in wanted if key not in existing]
    to_remove = existing - set(wanted)
    if to_add:
        instance.add_dynamic_partitions(name, to_add)
    for key in sorted(to_remove):
        instance.delete_dynamic_partition(name, key)
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
