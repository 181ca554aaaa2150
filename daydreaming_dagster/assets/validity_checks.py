"""Validity checks. Blocking: no leaked hint in what generators see, no post-cut-off generator.
Warning: parse health (unreadable scores, truncated answers).

A failing blocking check stops the run it belongs to before anything downstream (the task tables
and so every model call) is materialized; ``daydreaming run`` then stops and names the problem.
The generation step repeats the same tests itself, so no path reaches a model without them.
"""

import pandas as pd
from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue, asset_check

from ..experiment.validity import (
    TRAINING_CUTOFF,
    Leak,
    find_leaks,
    late_models,
    load_leak_phrases,
    parse_health,
)
from ..records.data_layout import read_record
from ..resources.data_paths import DataPathsResource
from ..resources.experiment_config import ExperimentConfig


def concept_texts(concepts_metadata: pd.DataFrame) -> dict[str, str]:
    """What a generator sees of each concept: its name and the description at the level used."""
    return {
        f"concept {row.concept_id} ({row.description_level})": f"{row.name}\n{row.description}"
        for row in concepts_metadata.itertuples(index=False)
    }


def template_texts(generation_templates: dict[str, str]) -> dict[str, str]:
    return {f"generation template {name}": text for name, text in generation_templates.items()}


def result_from_problems(
    problems: list[str], severity: AssetCheckSeverity, all_clear: str, metadata: dict
) -> AssetCheckResult:
    """Passed when there are no problems; the description lists them, or says what was fine."""
    return AssetCheckResult(
        passed=not problems,
        severity=severity,
        description="; ".join(problems) or all_clear,
        metadata=metadata,
    )


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
    return result_from_problems(
        problems,
        AssetCheckSeverity.ERROR,
        f"all {len(generation_models)} active generators predate {TRAINING_CUTOFF}",
        {"cutoff": TRAINING_CUTOFF.isoformat(), "problems": len(problems)},
    )


def truncated_flags(parsed_scores: pd.DataFrame, data_paths: DataPathsResource) -> list[bool]:
    """``truncated`` from the call record of every generation the judges' table refers to."""
    folder = data_paths.layout.generation_responses
    flags = []
    for generation_id in parsed_scores["generation_task_id"].drop_duplicates():
        record = read_record(folder, str(generation_id))
        if record is not None:
            flags.append(bool(record.get("truncated")))
    return flags


@asset_check(asset="parsed_scores")
def parse_health_is_good(
    parsed_scores: pd.DataFrame,
    data_paths: DataPathsResource,
    experiment_config: ExperimentConfig,
) -> AssetCheckResult:
    """Few judge answers without a readable score, few generations cut off at max_tokens:
    otherwise a parser failure or a token limit could pass for a low score (warning only)."""
    health = parse_health(parsed_scores, truncated_flags(parsed_scores, data_paths))
    problems = []
    if health.judged == 0:
        # Nothing was checked, so nothing passed: say so instead of reporting health.
        problems.append("no judge answer is done yet, so there was nothing to check")
    if health.unparsed_share > experiment_config.max_unparsed_share:
        problems.append(
            f"{health.unparsed} of {health.judged} judge answers ({health.unparsed_share:.0%}) "
            f"have no readable score (limit {experiment_config.max_unparsed_share:.0%}); see "
            "the 'error' column of parsed_scores.csv"
        )
    if health.truncated_share > experiment_config.max_truncated_share:
        problems.append(
            f"{health.truncated} of {health.generations} generation answers "
            f"({health.truncated_share:.0%}) stopped at max_tokens (limit "
            f"{experiment_config.max_truncated_share:.0%}); raise max_tokens in the models CSV"
        )
    return result_from_problems(
        problems,
        AssetCheckSeverity.WARN,
        "parse health within limits",
        {
            "judge_answers": health.judged,
            "unparsed": health.unparsed,
            "unparsed_share": round(health.unparsed_share, 4),
            "generation_answers": health.generations,
            "truncated": health.truncated,
            "truncated_share": round(health.truncated_share, 4),
        },
    )
