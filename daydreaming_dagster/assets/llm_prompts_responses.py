"""LLM assets: prompts and answers, one partition per generation task and per evaluation task.

``generation_prompt``/``generation_response`` and ``evaluation_prompt``/``evaluation_response``
are each produced by one batch step, so "Materialize all partitions" is one run whose calls run
concurrently, while ``--partition KEY`` still does exactly one partition. Every partition is
reported separately (see ``partition_batches``).
"""

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from dagster import (
    AllPartitionMapping,
    AssetDep,
    AssetExecutionContext,
    AssetIn,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Failure,
    MetadataValue,
    multi_asset,
)

from ..experiment.call_identity import sha256_text
from ..experiment.model_tables import concurrency_limits, price_table, request_rates
from ..experiment.prompts import concepts_by_combo, generation_prompt_text
from ..experiment.rendering import PromptRenderError
from ..experiment.tasks import evaluation_tasks_by_id, generation_tasks_by_id
from ..experiment.validity import find_leaks, late_models, load_leak_phrases
from ..llm_calls.budget import Prices
from ..records.data_layout import text_path
from ..records.task_status import (
    GENERATION_ANSWER,
    GenerationStatus,
    TaskStatusReader,
    not_ready_reason,
)
from ..resources.data_paths import DataPathsResource
from ..resources.llm_client import LLMClientResource
from .answer_metadata import evaluation_answer_metadata, generation_answer_metadata
from .batch_stage import CallSpec, PartitionFailure, PlannedCall, Stage, WaitForGeneration
from .generation_watch import GenerationWatch
from .partition_batches import materialize_stage
from .partitions import evaluation_tasks_partitions, generation_tasks_partitions
from .validity_checks import concept_texts, template_texts

GENERATION = "llm_generation"
EVALUATION = "llm_evaluation"
DEFINITIONS_FILE = "daydreaming_dagster/definitions.py"
# Dagster pool of the two LLM steps; give it a limit in dagster.yaml to cap concurrent LLM steps.
# Calls themselves are capped per model and per endpoint by call slots (LLMClientResource).
LLM_POOL = "llm_api"
# Shorter than a batch pass's wait (partition_batches.WAIT_POLL_S): each pass looks again.
RECHECK_IN_FLIGHT_S = 0.2


def task_for(rows: dict, key: str, table: str):
    """The task behind a partition, or a failure saying how to refresh stale partitions."""
    row = rows.get(key)
    if row is None:
        raise PartitionFailure(
            kind="invalid",
            message=f"partition '{key}' has no row in {table}. The task list changed since the "
            "partitions were registered: re-materialize the setup assets and task_definitions.",
        )
    return row


def prices_from(models: pd.DataFrame) -> dict[str, Prices]:
    return {model: Prices(*prices) for model, prices in price_table(models).items()}


def render_or_fail(render: Callable[[], str]) -> str:
    try:
        return render()
    except (PromptRenderError, ValueError) as exc:
        raise PartitionFailure(str(exc), kind="invalid") from None


def tasks_or_fail(convert: Callable[[], dict]) -> dict:
    """Typed task rows, or a Dagster failure saying how to rebuild an outdated table."""
    try:
        return convert()
    except ValueError as exc:
        raise Failure(str(exc)) from None


def cache_root(data_paths: DataPathsResource) -> Path:
    return data_paths.layout.response_cache


def refuse_invalid_experiment(
    content_combinations: pd.DataFrame,
    generation_templates: dict[str, str],
    generation_models: pd.DataFrame,
    layout,
) -> None:
    """The blocking validity checks, repeated here so that no path (a UI run of only this step,
    say) calls a generator that was shown a leaked hint or trained after the cut-off."""
    concepts = content_combinations.drop_duplicates("concept_id")
    problems = [
        leak.describe()
        for leak in find_leaks(
            {**concept_texts(concepts), **template_texts(generation_templates)},
            load_leak_phrases(layout.leak_phrases_file),
        )
    ] + late_models(generation_models)
    if problems:
        raise Failure(
            "No model was called: the experiment would not be valid. " + " | ".join(problems)
        )


@multi_asset(
    name="generation_llm",
    specs=[
        AssetSpec(
            "generation_prompt",
            group_name=GENERATION,
            kinds={"jinja"},
            partitions_def=generation_tasks_partitions,
            skippable=True,
            deps=["generation_tasks", "content_combinations", "generation_templates"],
            description="The prompt sent to the generator: the generation template rendered "
            "with the combination's concepts (data/03_generation/generation_prompts/KEY.txt).",
        ),
        AssetSpec(
            "generation_response",
            group_name=GENERATION,
            kinds={"openai"},
            partitions_def=generation_tasks_partitions,
            skippable=True,
            deps=["generation_prompt", "generation_tasks", "generation_models"],
            description="The generator model's essay for one task (combination x template x "
            "model, plus replicate): data/03_generation/generation_responses/KEY.txt, with its "
            "call record (.json: tokens, cost, latency, provider) beside it. Each "
            "materialization shows the essay under 'answer'.",
        ),
    ],
    ins={
        "generation_tasks": AssetIn(),
        "content_combinations": AssetIn(),
        "generation_templates": AssetIn(),
        "generation_models": AssetIn(),
    },
    can_subset=True,
    backfill_policy=BackfillPolicy.single_run(),
    pool=LLM_POOL,
)
def generation_llm(
    context: AssetExecutionContext,
    generation_tasks: pd.DataFrame,
    content_combinations: pd.DataFrame,
    generation_templates: dict[str, str],
    generation_models: pd.DataFrame,
    llm: LLMClientResource,
    data_paths: DataPathsResource,
):
    """Render prompts and call the generator models for every partition of the run."""
    layout = data_paths.layout
    tasks = tasks_or_fail(lambda: generation_tasks_by_id(generation_tasks))
    concepts = concepts_by_combo(content_combinations)
    reader = TaskStatusReader(layout, llm.resolved_base_url(), {})

    def plan(key: str) -> PlannedCall:
        task = task_for(tasks, key, "generation_tasks.csv")
        if task.template not in generation_templates:
            raise PartitionFailure(
                f"generation template {task.template!r} is not loaded; re-materialize "
                "generation_templates (and the task assets) with it selected.",
                kind="invalid",
            )
        combo_concepts = concepts.get(task.combo_id, [])
        prompt = render_or_fail(
            lambda: generation_prompt_text(generation_templates, task.template, combo_concepts)
        )
        if sha256_text(prompt) != task.prompt_sha256:
            raise PartitionFailure(
                "generation_tasks.csv was built from other templates or concepts than this run "
                "loaded; re-materialize the setup assets and task_definitions first.",
                kind="invalid",
            )
        status = reader.generation(task)
        spec = CallSpec(
            model=task.model,
            temperature=task.temperature,
            max_tokens=task.max_tokens,
            replicate=task.replicate,
            request_options=task.request_options,
            metadata={"combo_id": task.combo_id, "template": task.template, "model": task.model},
        )
        return PlannedCall(spec, prompt, status.decision.done, status.stored.record)

    if AssetKey("generation_response") in context.selected_asset_keys:
        refuse_invalid_experiment(
            content_combinations, generation_templates, generation_models, layout
        )
    stage = Stage(
        label="generation",
        prompt_asset=AssetKey("generation_prompt"),
        response_asset=AssetKey("generation_response"),
        prompt_folder=layout.generation_prompts,
        response_folder=layout.generation_responses,
        plan=plan,
        prices=prices_from(generation_models),
        model_limits=concurrency_limits(generation_models, llm.max_concurrent_per_model),
        request_rates=request_rates(generation_models),
        answer_metadata=generation_answer_metadata,
    )
    yield from materialize_stage(context, stage, llm, cache_root(data_paths))


@multi_asset(
    name="evaluation_llm",
    specs=[
        AssetSpec(
            "evaluation_prompt",
            group_name=EVALUATION,
            kinds={"jinja"},
            partitions_def=evaluation_tasks_partitions,
            skippable=True,
            # Evaluation keys do not line up with generation keys: the answer is read from disk
            # by generation_task_id. The edge shows the lineage in the asset graph.
            deps=[
                AssetDep("generation_response", partition_mapping=AllPartitionMapping()),
                "generation_tasks",
                "evaluation_tasks",
                "evaluation_templates",
            ],
            description="The prompt sent to the judge: the evaluation template rendered with "
            "the generation answer it judges (data/04_evaluation/evaluation_prompts/KEY.txt).",
        ),
        AssetSpec(
            "evaluation_response",
            group_name=EVALUATION,
            kinds={"openai"},
            partitions_def=evaluation_tasks_partitions,
            skippable=True,
            deps=["evaluation_prompt", "evaluation_tasks", "evaluation_models"],
            description="The judge's answer for one evaluation task (generation x evaluation "
            "template x judge): its reasoning ending in a SCORE line, in "
            "data/04_evaluation/evaluation_responses/KEY.txt with its call record beside it. "
            "Each materialization shows the reasoning under 'judge_answer' and the parsed "
            "'score' (NaN, with 'score_error', when none can be read).",
        ),
    ],
    ins={
        "evaluation_tasks": AssetIn(),
        "evaluation_templates": AssetIn(),
        "evaluation_models": AssetIn(),
        # Which answer each generation must hold now (its prompt hash): only that is judged.
        "generation_tasks": AssetIn(),
    },
    can_subset=True,
    backfill_policy=BackfillPolicy.single_run(),
    pool=LLM_POOL,
)
def evaluation_llm(
    context: AssetExecutionContext,
    evaluation_tasks: pd.DataFrame,
    evaluation_templates: dict[str, str],
    evaluation_models: pd.DataFrame,
    generation_tasks: pd.DataFrame,
    llm: LLMClientResource,
    data_paths: DataPathsResource,
):
    """Render judge prompts as generation answers become available, and call the judges.

    An evaluation whose generation answer is still being produced by a run in progress waits for
    it, so judging starts while other generations are still running.
    """
    layout = data_paths.layout
    tasks = tasks_or_fail(lambda: evaluation_tasks_by_id(evaluation_tasks))
    generations = tasks_or_fail(lambda: generation_tasks_by_id(generation_tasks))
    reader = TaskStatusReader(layout, llm.resolved_base_url(), evaluation_templates)
    watch = GenerationWatch(context.instance, AssetKey("generation_response"))
    forced = not llm.reuse_stored_responses
    # Each generation is judged by several partitions: once its answer is done it is read once.
    # (Were it replaced later by another run, the judgements made from this reading record the
    # old answer's hash and are stale, never counted.)
    done: dict[str, GenerationStatus] = {}
    # Generations found in flight in the last moment: their other judgements (adjacent keys,
    # re-planned every pass) wait without reading the files and the instance again.
    in_flight_at: dict[str, float] = {}

    def generation_status(generation_id: str) -> GenerationStatus:
        if generation_id in done:
            return done[generation_id]
        status = reader.generation(task_for(generations, generation_id, "generation_tasks.csv"))
        if status.decision.done and not forced:
            done[generation_id] = status
        return status

    def plan(key: str) -> PlannedCall:
        task = task_for(tasks, key, "evaluation_tasks.csv")
        generation_id = task.generation_task_id
        if time.monotonic() - in_flight_at.get(generation_id, -1.0) < RECHECK_IN_FLIGHT_S:
            raise WaitForGeneration(generation_id)
        generation = generation_status(generation_id)
        if not generation.decision.done or forced:
            # A run in progress is producing it (or, forced, replacing it): wait for that answer.
            if watch.in_flight(generation_id):
                in_flight_at[generation_id] = time.monotonic()
                raise WaitForGeneration(generation_id)
        if not generation.decision.done:
            raise PartitionFailure(
                f"{not_ready_reason(generation)}. Materialize it first: uv run dagster asset "
                f'materialize --select "generation_prompt,generation_response" --partition '
                f'"{generation_id}" -f {DEFINITIONS_FILE}'
            )
        status = render_or_fail(lambda: reader.evaluation(task, generation))
        spec = CallSpec(
            model=task.model,
            temperature=task.temperature,
            max_tokens=task.max_tokens,
            replicate=task.replicate_label,
            request_options=task.request_options,
            metadata={
                "generation_task_id": generation_id,
                "generation_response_path": MetadataValue.path(
                    str(text_path(layout.generation_responses, generation_id))
                ),
                "template": task.template,
                "model": task.model,
            },
        )
        answer_sha256 = sha256_text(generation.answer or "")
        made_from = {"generation_task_id": generation_id, GENERATION_ANSWER: answer_sha256}
        return PlannedCall(
            spec, status.prompt or "", status.decision.done, status.stored.record, made_from
        )

    stage = Stage(
        label="evaluation",
        prompt_asset=AssetKey("evaluation_prompt"),
        response_asset=AssetKey("evaluation_response"),
        prompt_folder=layout.evaluation_prompts,
        response_folder=layout.evaluation_responses,
        plan=plan,
        prices=prices_from(evaluation_models),
        model_limits=concurrency_limits(evaluation_models, llm.max_concurrent_per_model),
        request_rates=request_rates(evaluation_models),
        answer_metadata=evaluation_answer_metadata,
    )
    yield from materialize_stage(context, stage, llm, cache_root(data_paths))
