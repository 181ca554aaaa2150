"""Raw inputs from data/01_raw: concepts, models and templates, filtered by ExperimentConfig."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from ..experiment.concepts import Concept, load_concepts, select_concepts
from ..experiment.model_tables import active_only, load_models
from ..experiment.task_tables import (
    concepts_table,
    load_evaluation_templates,
    load_generation_templates,
)
from ..resources.data_paths import DataPathsResource
from ..resources.experiment_config import ExperimentConfig

GROUP = "raw_data"


@asset(group_name=GROUP, kinds={"json"})
def concepts(
    context: AssetExecutionContext,
    experiment_config: ExperimentConfig,
    data_paths: DataPathsResource,
) -> MaterializeResult:
    """The concepts of data/01_raw/concepts/day_dreaming_concepts.json (id, name, descriptions
    at three levels), limited to ``concept_ids_filter`` when set."""
    path = data_paths.layout.concepts_file
    selected = select_concepts(load_concepts(path), experiment_config.concept_ids_filter)
    context.log.info(f"Loaded {len(selected)} concepts from {path}")
    return MaterializeResult(
        value=selected,
        metadata={
            "count": len(selected),
            "concept_ids": ", ".join(c.concept_id for c in selected),
            "source": str(path),
        },
    )


@asset(group_name=GROUP, kinds={"pandas"}, io_manager_key="tasks_io_manager")
def concepts_metadata(
    context: AssetExecutionContext, concepts: list[Concept], experiment_config: ExperimentConfig
) -> MaterializeResult:
    """data/02_tasks/concepts_metadata.csv: each selected concept with the description
    generators will see, at ``description_level`` (or the next shorter level it has)."""
    level = experiment_config.description_level
    table, fell_back = concepts_table(concepts, level)
    for concept_id, used in zip(table["concept_id"], table["description_level"], strict=True):
        if concept_id in fell_back:
            context.log.warning(
                f"Concept {concept_id!r} has no {level!r} description; "
                f"using its {used!r} description instead."
            )
    return MaterializeResult(
        value=table,
        metadata={"count": len(table), "description_level": level, "fallbacks": len(fell_back)},
    )


def _models(path, what: str) -> MaterializeResult:
    table = active_only(load_models(path), what)
    return MaterializeResult(
        value=table,
        metadata={"active_models": ", ".join(table["model"]), "count": len(table)},
    )


@asset(group_name=GROUP, kinds={"csv"})
def generation_models(data_paths: DataPathsResource) -> MaterializeResult:
    """The active generators of data/01_raw/generation_models.csv, with the settings sent with
    every call (temperature, max_tokens, reasoning, provider routing), prices and release date."""
    return _models(data_paths.layout.generation_models_file, "generation models")


@asset(group_name=GROUP, kinds={"csv"})
def evaluation_models(data_paths: DataPathsResource) -> MaterializeResult:
    """The active judges of data/01_raw/evaluation_models.csv, with the settings sent with every
    call and their prices."""
    return _models(data_paths.layout.evaluation_models_file, "evaluation models")


@asset(group_name=GROUP, kinds={"jinja"})
def generation_templates(
    experiment_config: ExperimentConfig, data_paths: DataPathsResource
) -> MaterializeResult:
    """The generation templates (data/01_raw/generation_templates/*.txt, Jinja2) by name,
    limited to ``template_names_filter`` when set."""
    templates = load_generation_templates(
        data_paths.layout.generation_templates_dir, experiment_config.template_names_filter
    )
    return MaterializeResult(
        value=templates, metadata={"templates": ", ".join(templates), "count": len(templates)}
    )


@asset(group_name=GROUP, kinds={"jinja"})
def evaluation_templates(data_paths: DataPathsResource) -> MaterializeResult:
    """The judge templates (data/01_raw/evaluation_templates/*.txt, Jinja2) marked active in
    data/01_raw/evaluation_templates.csv, by name."""
    layout = data_paths.layout
    templates = load_evaluation_templates(
        layout.evaluation_templates_file, layout.evaluation_templates_dir
    )
    return MaterializeResult(
        value=templates, metadata={"templates": ", ".join(templates), "count": len(templates)}
    )
