"""Helpers that materialize the pipeline in-process against a temporary instance."""

from __future__ import annotations

from dagster import (
    AssetKey,
    AssetMaterialization,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
)

from daydreaming_dagster.orchestration.dagster_runs import materialize_selection
from daydreaming_dagster.orchestration.project import setup_assets


def run_assets(
    defs: Definitions,
    instance: DagsterInstance,
    selection: list[str],
    partition_key: str | None = None,
    raise_on_error: bool = True,
) -> ExecuteInProcessResult:
    return materialize_selection(
        defs, instance, selection, partition_key=partition_key, raise_on_error=raise_on_error
    )


def run_setup(defs: Definitions, instance: DagsterInstance) -> ExecuteInProcessResult:
    return run_assets(defs, instance, setup_assets(defs))


def failure_text(result: ExecuteInProcessResult) -> str:
    return "\n".join(
        event.event_specific_data.error.message
        for event in result.all_events
        if event.is_step_failure and event.event_specific_data.error
    )


def materializations_of(result: ExecuteInProcessResult, asset: str) -> list[AssetMaterialization]:
    """The run's materializations of one asset, one per partition, in the order they happened."""
    return [
        event.event_specific_data.materialization
        for event in result.get_asset_materialization_events()
        if event.asset_key == AssetKey(asset)
    ]
