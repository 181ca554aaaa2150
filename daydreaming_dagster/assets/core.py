"""Combinations of concepts and the generation/evaluation task tables built from them."""

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, asset

from ..experiment.combinations import ConceptCombination, make_combinations
from ..experiment.tasks import build_evaluation_tasks, build_generation_tasks
from ..resources.experiment_config import ExperimentConfig

GROUP = "task_definitions"
COMBINATION_COLUMNS = [
    "combo_id",
    "position",
    "concept_id",
    "name",
    "description_level",
    "description",
]


@asset(group_name=GROUP, kinds={"pandas", "csv"}, io_manager_key="tasks_io_manager")
def content_combinations(
    context: AssetExecutionContext,
    concepts_metadata: pd.DataFrame,
    experiment_config: ExperimentConfig,
) -> MaterializeResult:
    """Every k_max-sized combination, one row per (combination, concept), with descriptions."""
    by_id = concepts_metadata.set_index("concept_id")
    combos = make_combinations(list(concepts_metadata["concept_id"]), experiment_config.k_max)
    rows = [
        {
            "combo_id": combo.combo_id,
            "position": position,
            "concept_id": concept_id,
            "name": by_id.at[concept_id, "name"],
            "description_level": by_id.at[concept_id, "description_level"],
            "description": by_id.at[concept_id, "description"],
        }
        for combo in combos
        for position, concept_id in enumerate(combo.concept_ids, start=1)
    ]
    context.log.info(f"{len(combos)} combinations of {experiment_config.k_max} concepts")
    return MaterializeResult(
        value=pd.DataFrame(rows, columns=COMBINATION_COLUMNS),
        metadata={"combinations": len(combos), "k_max": experiment_config.k_max},
    )


def combinations_from_table(table: pd.DataFrame) -> list[ConceptCombination]:
    """Back from the long table to combinations, in combo order."""
    ordered = table.sort_values(["combo_id", "position"])
    return [
        ConceptCombination(combo_id=combo_id, concept_ids=tuple(group["concept_id"]))
        for combo_id, group in ordered.groupby("combo_id", sort=True)
    ]


@asset(group_name=GROUP, kinds={"pandas", "csv"}, io_manager_key="tasks_io_manager")
def generation_tasks(
    content_combinations: pd.DataFrame,
    generation_templates: dict[str, str],
    generation_models: pd.DataFrame,
    experiment_config: ExperimentConfig,
) -> MaterializeResult:
    """combination x generation template x active generator; ids are partition keys."""
    table = build_generation_tasks(
        combinations_from_table(content_combinations),
        list(generation_templates),
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
    """generation task x active evaluation template x active judge."""
    table = build_evaluation_tasks(
        generation_tasks,
        list(evaluation_templates),
        evaluation_models,
        replicates=experiment_config.evaluation_replicates,
    )
    return MaterializeResult(value=table, metadata={"evaluation_tasks": len(table)})
