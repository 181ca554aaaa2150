"""Combinations of concepts and the generation/evaluation task tables built from them (with the
functions of ``experiment.task_tables``, which ``daydreaming estimate`` uses too)."""

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, asset

from ..experiment.combinations import concept_sets
from ..experiment.task_tables import combinations_table, generation_tasks_table
from ..experiment.tasks import build_evaluation_tasks
from ..llm_calls.database_limits import held_across_machines
from ..records.combination_registry import register_combinations
from ..records.postgres_url import postgres_url
from ..resources.data_paths import DataPathsResource
from ..resources.experiment_config import ExperimentConfig

GROUP = "task_definitions"
REGISTRY_LOCK = "daydreaming/combination-registry"


@asset(group_name=GROUP, kinds={"pandas", "csv"}, io_manager_key="tasks_io_manager")
def content_combinations(
    context: AssetExecutionContext,
    concepts_metadata: pd.DataFrame,
    experiment_config: ExperimentConfig,
    data_paths: DataPathsResource,
) -> MaterializeResult:
    """data/02_tasks/content_combinations.csv: every k_max-sized combination of the selected
    concepts, one row per (combination, concept) in prompt order, with the description used.

    Ids come from data/combination_registry.csv: a set of concepts seen before keeps its id
    (and its concepts' order), a new one is registered with the next free number."""
    registry = data_paths.layout.combination_registry
    url = postgres_url()  # on PostgreSQL, setups on other machines may share this data folder
    combos, new = register_combinations(
        registry,
        concept_sets(list(concepts_metadata["concept_id"]), experiment_config.k_max),
        held_across_machines(url, REGISTRY_LOCK) if url else None,
    )
    context.log.info(
        f"{len(combos)} combinations of {experiment_config.k_max} concepts "
        f"({len(new)} newly registered in {registry})"
    )
    return MaterializeResult(
        value=combinations_table(combos, concepts_metadata),
        metadata={
            "combinations": len(combos),
            "k_max": experiment_config.k_max,
            "newly_registered": len(new),
            "registry": str(registry),
        },
    )


@asset(group_name=GROUP, kinds={"pandas", "csv"}, io_manager_key="tasks_io_manager")
def generation_tasks(
    content_combinations: pd.DataFrame,
    generation_templates: dict[str, str],
    generation_models: pd.DataFrame,
    experiment_config: ExperimentConfig,
) -> MaterializeResult:
    """data/02_tasks/generation_tasks.csv: combination x generation template x active generator
    (x replicate), one row per task; its id is the partition key of generation_prompt and
    generation_response. Each row carries the hash of the prompt its task sends: a stored
    answer to another prompt is stale."""
    table = generation_tasks_table(
        content_combinations,
        generation_templates,
        generation_models,
        replicates=experiment_config.generation_replicates,
    )
    return MaterializeResult(value=table, metadata={"generation_tasks": len(table)})


@asset(group_name=GROUP, kinds={"pandas", "csv"}, io_manager_key="tasks_io_manager")
def evaluation_tasks(
    generation_tasks: pd.DataFrame,
    evaluation_templates: dict[str, str],
    evaluation_models: pd.DataFrame,
    experiment_config: ExperimentConfig,
) -> MaterializeResult:
    """data/02_tasks/evaluation_tasks.csv: generation task x active evaluation template x
    active judge (x replicate); its id is the partition key of evaluation_prompt and
    evaluation_response."""
    table = build_evaluation_tasks(
        generation_tasks,
        list(evaluation_templates),
        evaluation_models,
        replicates=experiment_config.evaluation_replicates,
    )
    return MaterializeResult(value=table, metadata={"evaluation_tasks": len(table)})
