"""The task tables a selection would have, built from the raw files without running Dagster
and without writing anything (``daydreaming estimate``).

Combination ids are looked up in the registry; a set of concepts not registered yet gets the
number the setup assets would give it, but nothing is appended: estimating registers nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..experiment.combinations import assign_ids, concept_sets
from ..experiment.concepts import load_concepts, select_concepts
from ..experiment.model_tables import active_only, load_models
from ..experiment.task_tables import (
    TableSettings,
    combinations_table,
    concepts_table,
    generation_tasks_table,
    load_evaluation_templates,
    load_generation_templates,
)
from ..experiment.tasks import build_evaluation_tasks
from .combination_registry import read_registry
from .data_layout import DataLayout


@dataclass(frozen=True)
class TaskTables:
    content_combinations: pd.DataFrame
    generation_tasks: pd.DataFrame
    evaluation_tasks: pd.DataFrame
    evaluation_templates: dict[str, str]


def planned_task_tables(layout: DataLayout, settings: TableSettings) -> TaskTables:
    """What the setup assets would write to data/02_tasks for ``settings`` (ValueError or
    FileNotFoundError, with a message saying what to fix, for bad inputs)."""
    wanted_ids = list(settings.concept_ids) if settings.concept_ids else None
    concepts = select_concepts(load_concepts(layout.concepts_file), wanted_ids)
    metadata, _fell_back = concepts_table(concepts, settings.description_level)
    sets = concept_sets(list(metadata["concept_id"]), settings.k_max)
    combos, _new = assign_ids(sets, read_registry(layout.combination_registry))
    combinations = combinations_table(combos, metadata)
    names = list(settings.template_names) if settings.template_names else None
    generation = generation_tasks_table(
        combinations,
        load_generation_templates(layout.generation_templates_dir, names),
        active_only(load_models(layout.generation_models_file), "generation models"),
        replicates=settings.generation_replicates,
    )
    templates = load_evaluation_templates(
        layout.evaluation_templates_file, layout.evaluation_templates_dir
    )
    evaluation = build_evaluation_tasks(
        generation,
        list(templates),
        active_only(load_models(layout.evaluation_models_file), "evaluation models"),
        replicates=settings.evaluation_replicates,
    )
    return TaskTables(combinations, generation, evaluation, templates)
