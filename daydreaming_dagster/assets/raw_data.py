"""Raw inputs from data/01_raw: concepts, models and templates, filtered by ExperimentConfig."""

import pandas as pd
from dagster import AssetExecutionContext, MaterializeResult, asset

from ..experiment.concepts import Concept, choose_description, load_concepts, select_concepts
from ..experiment.model_tables import active_only, load_models, parse_active
from ..resources.data_paths import DataPathsResource
from ..resources.experiment_config import ExperimentConfig

GROUP = "raw_data"


@asset(group_name=GROUP, kinds={"json"})
def concepts(
    context: AssetExecutionContext,
    experiment_config: ExperimentConfig,
    data_paths: DataPathsResource,
) -> MaterializeResult:
    """Concepts from the curated file, limited to ``concept_ids_filter`` when set."""
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
    """Each concept with the description generators will see, at ``description_level``."""
    level = experiment_config.description_level
    rows = []
    for concept in concepts:
        chosen = choose_description(concept, level)
        if chosen.fell_back:
            context.log.warning(
                f"Concept {concept.concept_id!r} has no {level!r} description; "
                f"using its {chosen.level_used!r} description instead."
            )
        rows.append(
            {
                "concept_id": concept.concept_id,
                "name": concept.name,
                "description_level": chosen.level_used,
                "description": chosen.text,
            }
        )
    table = pd.DataFrame(rows, columns=["concept_id", "name", "description_level", "description"])
    fallbacks = int((table["description_level"] != level).sum())
    return MaterializeResult(
        value=table,
        metadata={"count": len(table), "description_level": level, "fallbacks": fallbacks},
    )


def _models(path, what: str) -> MaterializeResult:
    table = active_only(load_models(path), what)
    return MaterializeResult(
        value=table,
        metadata={"active_models": ", ".join(table["model"]), "count": len(table)},
    )


@asset(group_name=GROUP, kinds={"csv"})
def generation_models(data_paths: DataPathsResource) -> MaterializeResult:
    """Active generator models and their generation parameters."""
    return _models(data_paths.layout.generation_models_file, "generation models")


@asset(group_name=GROUP, kinds={"csv"})
def evaluation_models(data_paths: DataPathsResource) -> MaterializeResult:
    """Active judge models and their generation parameters."""
    return _models(data_paths.layout.evaluation_models_file, "evaluation models")


@asset(group_name=GROUP, kinds={"jinja"})
def generation_templates(
    experiment_config: ExperimentConfig, data_paths: DataPathsResource
) -> MaterializeResult:
    """Generation templates by name, limited to ``template_names_filter`` when set."""
    folder = data_paths.layout.generation_templates_dir
    available = {p.stem: p for p in sorted(folder.glob("*.txt"))}
    wanted = experiment_config.template_names_filter
    if wanted is not None:
        unknown = [name for name in wanted if name not in available]
        if unknown:
            raise ValueError(
                f"template_names_filter names unknown generation templates {unknown}; "
                f"available in {folder}: {sorted(available)}."
            )
    names = [n for n in available if wanted is None or n in wanted]
    if not names:
        raise ValueError(f"No generation templates (*.txt) found in {folder}.")
    templates = {name: available[name].read_text(encoding="utf-8") for name in names}
    return MaterializeResult(
        value=templates, metadata={"templates": ", ".join(names), "count": len(names)}
    )


@asset(group_name=GROUP, kinds={"jinja"})
def evaluation_templates(data_paths: DataPathsResource) -> MaterializeResult:
    """Active evaluation templates (listed in evaluation_templates.csv) by name."""
    layout = data_paths.layout
    listing = pd.read_csv(layout.evaluation_templates_file, dtype=str)
    listing["active"] = parse_active(listing["active"], str(layout.evaluation_templates_file))
    names = list(listing.loc[listing["active"], "template"])
    if not names:
        raise ValueError(f"No active evaluation template in {layout.evaluation_templates_file}.")
    templates = {}
    for name in names:
        path = layout.evaluation_templates_dir / f"{name}.txt"
        if not path.exists():
            raise FileNotFoundError(
                f"{layout.evaluation_templates_file} lists {name!r} but {path} does not exist."
            )
        templates[name] = path.read_text(encoding="utf-8")
    return MaterializeResult(
        value=templates, metadata={"templates": ", ".join(names), "count": len(names)}
    )
