"""Partitioned LLM assets: one partition per generation task and per evaluation task."""

from typing import Any

import pandas as pd
from dagster import (
    AllPartitionMapping,
    AssetDep,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ..data_layout import text_path
from ..experiment.rendering import render_prompt
from ..resources.data_paths import DataPathsResource
from ..resources.llm_client import (
    LLMCallError,
    LLMClientResource,
    LLMConfigurationError,
    LLMResponse,
)
from .partitions import evaluation_tasks_partitions, generation_tasks_partitions

GENERATION = "llm_generation"
EVALUATION = "llm_evaluation"
DEFINITIONS_FILE = "daydreaming_dagster/definitions.py"


def task_row(tasks: pd.DataFrame, id_column: str, partition_key: str) -> pd.Series:
    """The task behind a partition, or a Failure saying how to refresh stale partitions."""
    rows = tasks[tasks[id_column] == partition_key]
    if rows.empty:
        raise Failure(
            f"Partition '{partition_key}' has no row in {id_column.split('_task')[0]}_tasks.csv. "
            "The task list changed since the partitions were registered: re-materialize the "
            "setup assets and task_definitions."
        )
    return rows.iloc[0]


def response_metadata(response: LLMResponse) -> dict[str, Any]:
    """The same keys for every LLM call, so the UI can chart them across partitions."""
    return {
        "model": response.requested_model,
        "answered_by_model": response.answered_by_model or "",
        "finish_reason": response.finish_reason or "",
        "truncated": response.truncated,
        "prompt_tokens": response.prompt_tokens or 0,
        "completion_tokens": response.completion_tokens or 0,
        "total_tokens": response.total_tokens or 0,
        "cost_usd": response.cost_usd if response.cost_usd is not None else 0.0,
        "cost_reported": response.cost_usd is not None,
        "latency_s": response.latency_s,
        "temperature": response.temperature,
        "max_tokens": response.max_tokens,
        "chars": len(response.text),
    }


def call_llm(
    context: AssetExecutionContext,
    llm: LLMClientResource,
    prompt: str,
    task: pd.Series,
    model_column: str,
) -> MaterializeResult:
    model = str(task[model_column])
    try:
        response = llm.generate(
            prompt=prompt,
            model=model,
            temperature=float(task["temperature"]),
            max_tokens=int(task["max_tokens"]),
        )
    except (LLMCallError, LLMConfigurationError) as exc:
        raise Failure(f"Partition '{context.partition_key}': {exc}") from None
    if response.truncated:
        context.log.warning(
            f"{model} stopped at max_tokens={response.max_tokens} (finish_reason=length): "
            "the stored answer is truncated."
        )
    return MaterializeResult(value=response, metadata=response_metadata(response))


@asset(
    partitions_def=generation_tasks_partitions,
    group_name=GENERATION,
    kinds={"jinja"},
    io_manager_key="generation_prompt_io_manager",
)
def generation_prompt(
    context: AssetExecutionContext,
    generation_tasks: pd.DataFrame,
    content_combinations: pd.DataFrame,
    generation_templates: dict[str, str],
) -> MaterializeResult:
    """The generation template rendered with the combination's concepts."""
    task = task_row(generation_tasks, "generation_task_id", context.partition_key)
    template = str(task["generation_template"])
    if template not in generation_templates:
        raise Failure(
            f"Generation template {template!r} is not loaded; re-materialize generation_templates."
        )
    combo = content_combinations[content_combinations["combo_id"] == task["combo_id"]]
    concepts = [
        {"concept_id": r.concept_id, "name": r.name, "description": r.description}
        for r in combo.sort_values("position").itertuples(index=False)
    ]
    prompt = render_prompt(generation_templates[template], template, {"concepts": concepts})
    return MaterializeResult(
        value=prompt,
        metadata={
            "combo_id": str(task["combo_id"]),
            "template": template,
            "concepts": ", ".join(c["concept_id"] for c in concepts),
            "chars": len(prompt),
        },
    )


@asset(
    partitions_def=generation_tasks_partitions,
    group_name=GENERATION,
    kinds={"openai"},
    io_manager_key="generation_response_io_manager",
)
def generation_response(
    context: AssetExecutionContext,
    generation_prompt: str,
    generation_tasks: pd.DataFrame,
    llm: LLMClientResource,
) -> MaterializeResult:
    """The generator model's answer to the prompt (call record saved beside it)."""
    task = task_row(generation_tasks, "generation_task_id", context.partition_key)
    return call_llm(context, llm, generation_prompt, task, "generation_model")


@asset(
    partitions_def=evaluation_tasks_partitions,
    group_name=EVALUATION,
    kinds={"jinja"},
    io_manager_key="evaluation_prompt_io_manager",
    deps=[AssetDep("generation_response", partition_mapping=AllPartitionMapping())],
)
def evaluation_prompt(
    context: AssetExecutionContext,
    evaluation_tasks: pd.DataFrame,
    evaluation_templates: dict[str, str],
    data_paths: DataPathsResource,
) -> MaterializeResult:
    """The evaluation template rendered with the generation answer it judges.

    Evaluation keys do not line up with generation keys, so the answer is read from disk by
    ``generation_task_id`` rather than through a partition-mapped input.
    """
    task = task_row(evaluation_tasks, "evaluation_task_id", context.partition_key)
    generation_id = str(task["generation_task_id"])
    path = text_path(data_paths.layout.generation_responses, generation_id)
    if not path.exists():
        raise Failure(
            f"The generation response for '{generation_id}' does not exist yet ({path}). "
            "Materialize it first: uv run dagster asset materialize --select "
            f'"generation_prompt,generation_response" --partition "{generation_id}" '
            f"-f {DEFINITIONS_FILE}"
        )
    template = str(task["evaluation_template"])
    if template not in evaluation_templates:
        raise Failure(
            f"Evaluation template {template!r} is not active; re-materialize evaluation_templates."
        )
    response = path.read_text(encoding="utf-8")
    prompt = render_prompt(evaluation_templates[template], template, {"response": response})
    return MaterializeResult(
        value=prompt,
        metadata={
            "generation_task_id": generation_id,
            "generation_response_path": MetadataValue.path(str(path)),
            "template": template,
            "chars": len(prompt),
        },
    )


@asset(
    partitions_def=evaluation_tasks_partitions,
    group_name=EVALUATION,
    kinds={"openai"},
    io_manager_key="evaluation_response_io_manager",
)
def evaluation_response(
    context: AssetExecutionContext,
    evaluation_prompt: str,
    evaluation_tasks: pd.DataFrame,
    llm: LLMClientResource,
) -> MaterializeResult:
    """The judge model's answer, ending in a SCORE line (call record saved beside it)."""
    task = task_row(evaluation_tasks, "evaluation_task_id", context.partition_key)
    return call_llm(context, llm, evaluation_prompt, task, "evaluation_model")
