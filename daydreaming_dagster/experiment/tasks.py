"""Generation and evaluation task tables; their ids are the Dagster partition keys."""

from __future__ import annotations

import pandas as pd

from .combinations import ConceptCombination

GENERATION_TASK_COLUMNS = [
    "generation_task_id",
    "combo_id",
    "generation_template",
    "generation_model",
    "generation_model_name",
    "temperature",
    "max_tokens",
    "replicate",
]
EVALUATION_TASK_COLUMNS = [
    "evaluation_task_id",
    "generation_task_id",
    "combo_id",
    "generation_template",
    "generation_model",
    "evaluation_template",
    "evaluation_model",
    "evaluation_model_name",
    "temperature",
    "max_tokens",
    "replicate",
    "generation_replicate",
]


def generation_task_id(combo_id: str, template: str, model: str) -> str:
    """The seed's key format ``{combo_id}_{template}_{model}``."""
    return f"{combo_id}_{template}_{model}"


def evaluation_task_id(generation_task: str, template: str, model: str) -> str:
    """The seed's key format ``{generation_task_id}_{eval_template}_{eval_model}``."""
    return f"{generation_task}_{template}_{model}"


def with_replicate(task_id: str, replicate: int, replicates: int) -> str:
    """The seed's id when there is one replicate; ``<id>_r<n>`` for each of several."""
    return task_id if replicates == 1 else f"{task_id}_r{replicate}"


def _replicate_numbers(replicates: int) -> range:
    if replicates < 1:
        raise ValueError(f"replicates must be at least 1, got {replicates}.")
    return range(1, replicates + 1)


def _require_unique(ids: pd.Series, what: str) -> None:
    if ids.duplicated().any():
        raise ValueError(f"Two {what} share the id {ids[ids.duplicated()].iloc[0]!r}.")


def build_generation_tasks(
    combinations: list[ConceptCombination],
    templates: list[str],
    models: pd.DataFrame,
    replicates: int = 1,
) -> pd.DataFrame:
    """combination x template x active model (x replicate), in that nesting order."""
    model_rows = list(models.itertuples(index=False))  # once, not once per combination
    rows = [
        {
            "generation_task_id": with_replicate(
                generation_task_id(combo.combo_id, template, m.model), r, replicates
            ),
            "combo_id": combo.combo_id,
            "generation_template": template,
            "generation_model": m.model,
            "generation_model_name": m.short_name,
            "temperature": float(m.temperature),
            "max_tokens": int(m.max_tokens),
            "replicate": r,
        }
        for combo in combinations
        for template in templates
        for m in model_rows
        for r in _replicate_numbers(replicates)
    ]
    table = pd.DataFrame(rows, columns=GENERATION_TASK_COLUMNS)
    _require_unique(table["generation_task_id"], "generation tasks")
    return table


def build_evaluation_tasks(
    generation_tasks: pd.DataFrame,
    templates: list[str],
    models: pd.DataFrame,
    replicates: int = 1,
) -> pd.DataFrame:
    """generation task x evaluation template x active judge (x replicate)."""
    model_rows = list(models.itertuples(index=False))  # once, not once per generation
    rows = [
        {
            "evaluation_task_id": with_replicate(
                evaluation_task_id(g.generation_task_id, template, m.model), r, replicates
            ),
            "generation_task_id": g.generation_task_id,
            "combo_id": g.combo_id,
            "generation_template": g.generation_template,
            "generation_model": g.generation_model,
            "evaluation_template": template,
            "evaluation_model": m.model,
            "evaluation_model_name": m.short_name,
            "temperature": float(m.temperature),
            "max_tokens": int(m.max_tokens),
            "replicate": r,
            "generation_replicate": int(getattr(g, "replicate", 1)),
        }
        for g in generation_tasks.itertuples(index=False)
        for template in templates
        for m in model_rows
        for r in _replicate_numbers(replicates)
    ]
    table = pd.DataFrame(rows, columns=EVALUATION_TASK_COLUMNS)
    _require_unique(table["evaluation_task_id"], "evaluation tasks")
    return table


def replicate_of(task: pd.Series) -> int:
    """The task's replicate number (1 for task tables written before replicates existed)."""
    value = task.get("replicate", 1)
    return 1 if pd.isna(value) else int(value)


def evaluation_replicate_label(task: pd.Series) -> str:
    """Which judgement of which generation replicate: "1" for the seed's single one, so its
    call keys stay as they were; generation replicates with the same text stay separate calls."""
    generation = task.get("generation_replicate", 1)
    generation = 1 if pd.isna(generation) else int(generation)
    evaluation = replicate_of(task)
    return str(evaluation) if generation == 1 else f"g{generation}e{evaluation}"
