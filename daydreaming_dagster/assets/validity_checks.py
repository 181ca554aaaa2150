"""Blocking asset checks: no leaked hint in what generators see, no post-cut-off generator.

A failing blocking check stops the run it belongs to before anything downstream (the task tables
and so every model call) is materialized; ``daydreaming run`` then stops and names the problem.
The generation step repeats the same tests itself, so no path reaches a model without them.
"""

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from ..experiment.validity import TRAINING_CUTOFF, Leak, find_leaks, late_models, load_leak_phrases
from ..resources.data_paths import DataPathsResource


def concept_texts(concepts_metadata: pd.DataFrame) -> dict[str, str]:
    """What a generator sees of each concept: its name and the description at the level used."""
    return {
        f"concept {row.concept_id} ({row.description_level})": f"{row.name}\n{row.description}"
        for row in concepts_metadata.itertuples(index=False)
    }


def template_texts(generation_templates: dict[str, str]) -> dict[str, str]:
    return {f"generation template {name}": text for name, text in generation_templates.items()}


def leak_result(leaks: list[Leak], checked: int, phrases: int) -> AssetCheckResult:
    return AssetCheckResult(
        passed=not leaks,
        severity=AssetCheckSeverity.ERROR,
        description=(
            "; ".join(leak.describe() for leak in leaks[:5])
            if leaks
            else f"none of {phrases} leak phrases in {checked} texts"
        ),
        metadata={
            "leaks": len(leaks),
            "texts_checked": checked,
            "leak_phrases": phrases,
            "found": MetadataValue.md(
                "\n".join(f"- {leak.describe()}" for leak in leaks) or "_none_"
            ),
        },
    )


@asset_check(asset="concepts_metadata", blocking=True)
def concepts_do_not_leak_the_idea(
    concepts_metadata: pd.DataFrame, data_paths: DataPathsResource
) -> AssetCheckResult:
    """No concept name or description (at the level in use) contains a leak phrase."""
    phrases = load_leak_phrases(data_paths.layout.leak_phrases_file)
    texts = concept_texts(concepts_metadata)
    return leak_result(find_leaks(texts, phrases), len(texts), len(phrases))


@asset_check(asset="generation_templates", blocking=True)
def templates_do_not_leak_the_idea(
    generation_templates: dict[str, str], data_paths: DataPathsResource
) -> AssetCheckResult:
    """No generation template contains a leak phrase."""
    phrases = load_leak_phrases(data_paths.layout.leak_phrases_file)
    texts = template_texts(generation_templates)
    return leak_result(find_leaks(texts, phrases), len(texts), len(phrases))


@asset_check(asset="generation_models", blocking=True)
def generators_predate_the_cutoff(generation_models: pd.DataFrame) -> AssetCheckResult:
    """Every active generator was released before the cut-off (2025-06-01)."""
    problems = late_models(generation_models)
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        description="; ".join(problems)
        or f"all {len(generation_models)} active generators predate {TRAINING_CUTOFF}",
        metadata={"cutoff": TRAINING_CUTOFF.isoformat(), "problems": len(problems)},
    )
