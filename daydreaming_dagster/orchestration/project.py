"""The project a command works on: its instance, definitions and data folder, set up for one
selection, and the batch runs over partition ranges that both judging processes start.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterInstance, Definitions

from ..definitions import build_definitions
from ..records.data_layout import DataLayout
from ..records.fork_memory import release_free_memory
from ..resources.llm_client import LLMClientResource
from .dagster_runs import (
    STAGES,
    ConfigurationError,
    materialize_selection,
    partition_range_tags,
    use_project_instance,
)
from .options import RunOptions
from .run_reports import StageReport, stage_report


@dataclass(frozen=True)
class Project:
    home: Path
    defs: Definitions
    layout: DataLayout


def prepare(options: RunOptions) -> Project:
    """Load .env, choose the instance, and build the definitions for this selection."""
    from dotenv import find_dotenv, load_dotenv

    load_dotenv(find_dotenv(usecwd=True), override=False)
    home = use_project_instance(options.dagster_home)
    defs = build_definitions(
        data_root=options.data_root,
        experiment_config=options.selection.experiment_config(),
        llm=LLMClientResource(reuse_stored_responses=not options.force),
    )
    layout = defs.resources["data_paths"].layout
    if not layout.raw.exists():
        raise ConfigurationError(f"No raw data at {layout.raw}: run this from the repository root.")
    return Project(home, defs, layout)


SETUP_ASSETS_GROUPS = ("raw_data", "task_definitions")


def setup_assets(defs: Definitions) -> list[str]:
    """The setup assets, from the definitions: every asset of the raw-data and task groups."""
    graph = defs.resolve_asset_graph()
    return sorted(
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if graph.get(key).group_name in SETUP_ASSETS_GROUPS
    )


def run_setup(defs: Definitions, instance: DagsterInstance):
    return materialize_selection(defs, instance, setup_assets(defs))


def run_range(
    defs: Definitions,
    instance: DagsterInstance,
    stage: str,
    ordered: list[str],
    llm: LLMClientResource,
    extra_tags: dict[str, str] | None = None,
) -> StageReport:
    """One batch run over the partition range from ``ordered[0]`` to ``ordered[-1]`` (partitions
    in the range that are already done are skipped by the assets)."""
    selection = STAGES[stage][0]
    tags = {**partition_range_tags(ordered[0], ordered[-1]), **(extra_tags or {})}
    result = materialize_selection(
        defs, instance, selection, tags=tags, resources={**defs.resources, "llm": llm}
    )
    report = stage_report(stage, result)
    del result  # it holds every event of the run
    release_free_memory()
    return report


def judge_range_fn(defs: Definitions, instance: DagsterInstance, llm: LLMClientResource):
    """``keys -> StageReport`` for one evaluation chunk (see parallel_judging)."""
    return lambda keys: run_range(defs, instance, "evaluation", keys, llm)
