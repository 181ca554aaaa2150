"""Generation and evaluation task tables; their ids are the Dagster partition keys."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .combinations import ConceptCombination
from .model_tables import options_text, request_options

GENERATION_TASK_COLUMNS = [
    "generation_task_id",
    "combo_id",
    "generation_template",
    "generation_model",
    "generation_model_name",
    "temperature",
    "max_tokens",
    "replicate",
    "concept_ids",
    "prompt_sha256",
    "request_options",
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
    "request_options",
]


CONCEPT_SEPARATOR = "|"


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
    prompt_sha256: Callable[[ConceptCombination, str], str] | None = None,
) -> pd.DataFrame:
    """combination x template x active model (x replicate), in that nesting order.

    ``prompt_sha256(combination, template)`` gives the hash of the prompt each task sends, the
    column a stored answer is checked against (see ``task_state``).
    """
    model_rows = list(models.itertuples(index=False))  # once, not once per combination
    options = _options_by_model(models)
    hashes = {
        (combo.combo_id, template): prompt_sha256(combo, template) if prompt_sha256 else ""
        for combo in combinations
        for template in templates
    }
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
            "concept_ids": CONCEPT_SEPARATOR.join(combo.concept_ids),
            "prompt_sha256": hashes[(combo.combo_id, template)],
            "request_options": options[m.model],
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
    options = _options_by_model(models)
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
            "request_options": options[m.model],
        }
        for g in generation_tasks.itertuples(index=False)
        for template in templates
        for m in model_rows
        for r in _replicate_numbers(replicates)
    ]
    table = pd.DataFrame(rows, columns=EVALUATION_TASK_COLUMNS)
    _require_unique(table["evaluation_task_id"], "evaluation tasks")
    return table


def _options_by_model(models: pd.DataFrame) -> dict[str, str]:
    return {
        str(row["model"]): options_text(request_options(row)) for row in models.to_dict("records")
    }


def _get(row: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A task-table cell; empty cells (older tables, pandas NaN) give ``default``."""
    value = row.get(name, default)
    return default if value is None or (isinstance(value, float) and pd.isna(value)) else value


@dataclass(frozen=True)
class GenerationTask:
    """One row of generation_tasks.csv: what one generation partition asks of which model."""

    task_id: str
    combo_id: str
    template: str
    model: str
    temperature: float
    max_tokens: int
    replicate: int
    prompt_sha256: str
    request_options: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> GenerationTask:
        return cls(
            task_id=str(_get(row, "generation_task_id")),
            combo_id=str(_get(row, "combo_id")),
            template=str(_get(row, "generation_template")),
            model=str(_get(row, "generation_model")),
            temperature=float(_get(row, "temperature")),
            max_tokens=int(_get(row, "max_tokens")),
            replicate=int(_get(row, "replicate", 1)),
            prompt_sha256=str(_get(row, "prompt_sha256", "")),
            request_options=str(_get(row, "request_options", "")),
        )


@dataclass(frozen=True)
class EvaluationTask:
    """One row of evaluation_tasks.csv: which judge scores which generation with which rubric."""

    task_id: str
    generation_task_id: str
    template: str
    model: str
    temperature: float
    max_tokens: int
    replicate: int
    generation_replicate: int
    request_options: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> EvaluationTask:
        return cls(
            task_id=str(_get(row, "evaluation_task_id")),
            generation_task_id=str(_get(row, "generation_task_id")),
            template=str(_get(row, "evaluation_template")),
            model=str(_get(row, "evaluation_model")),
            temperature=float(_get(row, "temperature")),
            max_tokens=int(_get(row, "max_tokens")),
            replicate=int(_get(row, "replicate", 1)),
            generation_replicate=int(_get(row, "generation_replicate", 1)),
            request_options=str(_get(row, "request_options", "")),
        )

    @property
    def replicate_label(self) -> str:
        """Which judgement of which generation replicate: "1" for the seed's single one, so its
        call keys stay as they were; generation replicates with the same text stay separate
        calls."""
        if self.generation_replicate == 1:
            return str(self.replicate)
        return f"g{self.generation_replicate}e{self.replicate}"


def generation_tasks_by_id(table: pd.DataFrame) -> dict[str, GenerationTask]:
    return {task.task_id: task for task in _typed(table, GenerationTask)}


def evaluation_tasks_by_id(table: pd.DataFrame) -> dict[str, EvaluationTask]:
    return {task.task_id: task for task in _typed(table, EvaluationTask)}


def _typed(table: pd.DataFrame, kind: type) -> Iterable:
    if "prompt_sha256" not in table.columns and kind is GenerationTask:
        raise ValueError(
            "generation_tasks.csv has no prompt_sha256 column: it was written by an older "
            "version. Re-materialize the setup assets (or run `daydreaming run`)."
        )
    return (kind.from_row(row._asdict()) for row in table.itertuples(index=False))
