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
]


def generation_task_id(combo_id: str, template: str, model: str) -> str:
    """The seed's key format ``{combo_id}_{template}_{model}``."""
    return f"{combo_id}_{template}_{model}"


def evaluation_task_id(generation_task: str, template: str, model: str) -> str:
    """The seed's key format ``{generation_task_id}_{eval_template}_{eval_model}``."""
    return f"{generation_task}_{template}_{model}"


def _require_unique(ids: pd.Series, what: str) -> None:
    if ids.duplicated().any():
        raise ValueError(f"Two {what} share the id {ids[ids.duplicated()].iloc[0]!r}.")


def build_generation_tasks(
    combinations: list[ConceptCombination], templates: list[str], models: pd.DataFrame
) -> pd.DataFrame:
    """combination x template x active model, in that nesting order."""
    rows = [
        {
            "generation_task_id": generation_task_id(combo.combo_id, template, m.model),
            "combo_id": combo.combo_id,
            "generation_template": template,
            "generation_model": m.model,
            "generation_model_name": m.short_name,
            "temperature": float(m.temperature),
            "max_tokens": int(m.max_tokens),
        }
        for combo in combinations
        for template in templates
        for m in models.itertuples(index=False)
    ]
    table = pd.DataFrame(rows, columns=GENERATION_TASK_COLUMNS)
    _require_unique(table["generation_task_id"], "generation tasks")
    return table


def build_evaluation_tasks(
    generation_tasks: pd.DataFrame, templates: list[str], models: pd.DataFrame
) -> pd.DataFrame:
    """generation task x evaluation template x active judge."""
    rows = [
        {
            "evaluation_task_id": evaluation_task_id(g.generation_task_id, template, m.model),
            "generation_task_id": g.generation_task_id,
            "combo_id": g.combo_id,
            "generation_template": g.generation_template,
            "generation_model": g.generation_model,
            "evaluation_template": template,
            "evaluation_model": m.model,
            "evaluation_model_name": m.short_name,
            "temperature": float(m.temperature),
            "max_tokens": int(m.max_tokens),
        }
        for g in generation_tasks.itertuples(index=False)
        for template in templates
        for m in models.itertuples(index=False)
    ]
    table = pd.DataFrame(rows, columns=EVALUATION_TASK_COLUMNS)
    _require_unique(table["evaluation_task_id"], "evaluation tasks")
    return table
