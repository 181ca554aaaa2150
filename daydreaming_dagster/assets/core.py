"""Combinations of concepts and the generation/evaluation task tables built from them."""

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, asset

from ..experiment.call_identity import sha256_text
from ..experiment.combinations import ConceptCombination, concept_sets
from ..experiment.prompts import concepts_by_combo, generation_prompt_text
from ..experiment.tasks import build_evaluation_tasks, build_generation_tasks
from ..records.combination_registry import register_combinations
from ..resources.data_paths import DataPathsResource
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
    data_paths: DataPathsResource,
) -> MaterializeResult:
    """Every k_max-sized combination, one row per (combination, concept), with descriptions.

    Ids come from data/combination_registry.csv: a set of concepts seen before keeps its id
    (and its concepts' order), a new one is registered with the next free number."""
    by_id = concepts_metadata.set_index("concept_id")
    registry = data_paths.layout.combination_registry
    combos, new = register_combinations(
        registry, concept_sets(list(concepts_metadata["concept_id"]), experiment_config.k_max)
    )
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
    context.log.info(
        f"{len(combos)} combinations of {experiment_config.k_max} concepts "
        f"({len(new)} newly registered in {registry})"
    )
    return MaterializeResult(
        value=pd.DataFrame(rows, columns=COMBINATION_COLUMNS),
        metadata={
            "combinations": len(combos),
            "k_max": experiment_config.k_max,
            "newly_registered": len(new),
            "registry": str(registry),
        },
    )


def combinations_from_table(table: pd.DataFrame) -> list[ConceptCombination]:
    """Back from the long table to combinations, in the table's order."""
    return [
        ConceptCombination(
            combo_id=str(combo_id), concept_ids=tuple(group.sort_values("position")["concept_id"])
        )
        for combo_id, group in table.groupby("combo_id", sort=False)
    ]


@asset(group_name=GROUP, kinds={"pandas", "csv"}, io_manager_key="tasks_io_manager")
def generation_tasks(
    content_combinations: pd.DataFrame,
    generation_templates: dict[str, str],
    generation_models: pd.DataFrame,
    experiment_config: ExperimentConfig,
) -> MaterializeResult:
    """combination x generation template x active generator; ids are partition keys. Each row
    carries the hash of the prompt its task sends: a stored answer to another prompt is stale."""
    concepts = concepts_by_combo(content_combinations)

    def prompt_sha256(combo: ConceptCombination, template: str) -> str:
        return sha256_text(
            generation_prompt_text(generation_templates, template, concepts[combo.combo_id])
        )

    table = build_generation_tasks(
        combinations_from_table(content_combinations),
        list(generation_templates),
        generation_models,
        replicates=experiment_config.generation_replicates,
        prompt_sha256=prompt_sha256,
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
