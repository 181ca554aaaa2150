"""Materialize many LLM partitions in one Dagster run, calls running concurrently.

Dagster hands a batch asset every partition key of the run (one key for ``--partition KEY``,
hundreds for "Materialize all partitions"). For each key we render the prompt, reuse the answer
if the same call was already paid for, or queue the call on a ``CallRunner``. Each finished
partition is reported as its own ``AssetMaterialization`` right away, so the UI keeps per-partition
status and metadata, and a run that fails part-way has already recorded every success. The files
are the record: a partition's call record (.json) is written before its text (.txt), each
atomically, so after a crash a text file always has its record and no file is half-written.
"""

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    DagsterExecutionInterruptedError,
    DagsterInstance,
    DagsterRun,
    Failure,
    MetadataValue,
)

from ..experiment.call_identity import sha256_text
from ..llm_calls.budget import CostBudget, Prices, SharedCostBudget
from ..llm_calls.call_runner import CallOutcome, CallRequest, CallRunner
from ..llm_calls.failures import LLMCallError
from ..llm_calls.interrupt import request_stop, stop_requested
from ..llm_calls.pacing import RequestPacer
from ..llm_calls.response_cache import ResponseCache
from ..llm_calls.slots import CallSlots, default_slots_root
from ..records.data_layout import record_path, text_path, write_json_atomic, write_text_atomic
from ..resources.llm_client import (
    LLMClientResource,
    LLMConfigurationError,
    LLMResponse,
    is_openrouter,
)

PROGRESS_EVERY_S = 5.0
GRACE_S = 6.0  # after Ctrl-C, how long answers already on their way are waited for
WAIT_POLL_S = 0.25
DRAIN_EVERY = 25
SHOWN_FAILURES = 50


class PartitionFailure(Exception):
    """This partition cannot be done now; the message says why and what to do."""

    def __init__(self, message: str, kind: str = "not_ready"):
        super().__init__(message)
        self.kind = kind  # "not_ready" (an input is missing or stale) or "invalid"


class WaitForGeneration(Exception):
    """The prompt needs a generation answer that a running run is still producing."""


@dataclass(frozen=True)
class CallSpec:
    """What a partition asks of which model (from its task row)."""

    model: str
    temperature: float
    max_tokens: int
    metadata: dict[str, Any]
    replicate: int | str = 1
    request_options: str = ""


@dataclass(frozen=True)
class PlannedCall:
    """What a partition needs now: its call, its prompt, and whether its stored result is
    already exactly that (done, see ``task_status``)."""

    spec: CallSpec
    prompt: str
    done: bool
    stored_record: dict[str, Any] | None = None
    # Recorded with the answer besides the call itself: what else it was made from.
    made_from: dict[str, str] = field(default_factory=dict)


@dataclass
class Stage:
    """One side of the experiment: the generation or the evaluation prompt/response pair."""

    label: str
    prompt_asset: AssetKey
    response_asset: AssetKey
    prompt_folder: Path
    response_folder: Path
    plan: Callable[[str], PlannedCall]
    prices: dict[str, Prices]
    model_limits: dict[str, int]
    request_rates: dict[str, int] = field(default_factory=dict)


@dataclass
class Tally:
    total: int
    called: int = 0
    reused: int = 0
    prompts_only: int = 0
    charged_usd: float = 0.0
    failures: dict[str, str] = field(default_factory=dict)
    failure_kinds: dict[str, str] = field(default_factory=dict)  # key -> FailureKind value

    def fail(self, key: str, kind: str, reason: str) -> None:
        self.failures[key] = reason
        self.failure_kinds[key] = kind

    @property
    def finished(self) -> int:
        return self.called + self.reused + self.prompts_only + len(self.failures)


def response_metadata(
    record: dict[str, Any], path: Path, source: str, attempts: int, charged: float
):
    """The same keys on every path (new call, cache, already stored) so the UI can chart them."""
    return {
        "model": str(record.get("requested_model") or ""),
        "answered_by_model": str(record.get("answered_by_model") or ""),
        "finish_reason": str(record.get("finish_reason") or ""),
        "truncated": bool(record.get("truncated")),
        "prompt_tokens": int(record.get("prompt_tokens") or 0),
        "completion_tokens": int(record.get("completion_tokens") or 0),
        "total_tokens": int(record.get("total_tokens") or 0),
        "reasoning_tokens": int(record.get("reasoning_tokens") or 0),
        "provider": str(record.get("provider") or ""),
        "cost_usd": float(record.get("cost_usd") or 0.0),
        "cost_source": str(record.get("cost_source") or "unknown"),
        "charged_now_usd": round(charged, 8),
        "latency_s": float(record.get("latency_s") or 0.0),
        "temperature": float(record.get("temperature") or 0.0),
        "max_tokens": int(record.get("max_tokens") or 0),
        "source": source,
        "attempts": attempts,
        "replicate": str(record.get("replicate") or 1),
        "path": MetadataValue.path(str(path)),
    }


PID_TAG = "daydreaming/cli_pid"


def run_process_alive(run: DagsterRun) -> bool:
    """False when the run was started by a ``daydreaming`` process that no longer exists (killed
    runs stay "started" in the instance); True when alive or unknown (UI-launched runs)."""
    pid = run.tags.get(PID_TAG, "")
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class GenerationWatch:
    """Whether a missing generation answer is still being produced by a run in progress.

    Polled for every waiting evaluation, so it keeps the lookups cheap: which run planned a
    generation is looked up once, and each run's status at most once a second.
    """

    def __init__(self, instance: DagsterInstance, generation_asset: AssetKey):
        self._instance = instance
        self._asset = generation_asset
        self._planned_by: dict[str, str | None] = {}
        self._run_checked: dict[str, tuple[float, bool]] = {}

    def in_flight(self, generation_id: str) -> bool:
        if generation_id not in self._planned_by:
            info = self._instance.get_latest_planned_materialization_info(
                self._asset, generation_id
            )
            self._planned_by[generation_id] = info.run_id if info else None
        run_id = self._planned_by[generation_id]
        return run_id is not None and self._run_in_progress(run_id)

    def _run_in_progress(self, run_id: str) -> bool:
        now = time.monotonic()
        checked = self._run_checked.get(run_id)
        if checked and now - checked[0] < 1.0:
            return checked[1]
        run = self._instance.get_run_by_id(run_id)
        running = run is not None and not run.is_finished and run_process_alive(run)
        self._run_checked[run_id] = (now, running)
        return running


def partition_record(outcome: CallOutcome) -> dict[str, Any]:
    """The call record as kept beside a partition's answer: the call, plus the hash of the
    answer itself and what else the answer was made from (``task_status`` checks both)."""
    return {
        **(outcome.record or {}),
        "task_id": outcome.request.key,
        "answer_sha256": sha256_text(outcome.text or ""),
        **outcome.request.made_from,
    }


def store_answer(folder: Path, outcome: CallOutcome) -> None:
    """A partition's call record, then its text, each written atomically and durably. A crash
    between the two leaves a record whose answer hash does not match the text: stale, redone."""
    key = outcome.request.key
    write_json_atomic(record_path(folder, key), partition_record(outcome))
    write_text_atomic(text_path(folder, key), outcome.text or "")


def make_pacer(llm: LLMClientResource, slots_root: Path, rates: dict[str, int]) -> RequestPacer:
    """Request rates and quotas for this endpoint and key, shared by every process."""
    account = sha256_text(llm.ensure_api_key())[:16]  # per account; never the key itself
    return RequestPacer(
        slots_root / f"limits-{account}.json",
        llm.invocation or uuid.uuid4().hex,
        rates,
        window_s=llm.rate_limit_window_s,
        free_group_limit=llm.free_models_requests_per_minute,
        free_group_active=is_openrouter(llm.resolved_base_url()),
    )


def make_runner(
    llm: LLMClientResource,
    model_limits: dict[str, int],
    cache_root: Path,
    log,
    store: Callable[[CallOutcome], None] | None = None,
    request_rates: dict[str, int] | None = None,
) -> CallRunner:
    limits = dict(model_limits)
    slots_root = (
        Path(llm.slots_dir) if llm.slots_dir else default_slots_root(llm.resolved_base_url())
    )

    def on_retry(request: CallRequest, exc: LLMCallError, wait: float) -> None:
        log.warning(f"{request.key}: {exc} (retrying in {wait:.1f}s)")

    def to_answer(response: LLMResponse) -> tuple[str, dict]:
        return response.text, response.call_record()

    try:
        llm.ensure_api_key()
        llm.prepare_client()  # here, not in the first of many worker threads at once
    except LLMConfigurationError as exc:
        raise Failure(description=str(exc)) from None
    pacer = make_pacer(llm, slots_root, request_rates or {})
    return CallRunner(
        llm,
        to_answer,
        cache=ResponseCache(cache_root),
        slots=CallSlots(slots_root, llm.max_concurrent_per_endpoint, limits),
        policy=llm.retry_policy(),
        budget=(
            SharedCostBudget(Path(llm.budget_ledger), llm.max_cost_usd)
            if llm.budget_ledger
            else CostBudget(llm.max_cost_usd)
        ),
        reuse=llm.reuse_stored_responses,
        workers=min(llm.max_concurrent_per_endpoint, max(sum(limits.values()), 1)),
        on_retry=on_retry,
        store=store,
        pacer=pacer,
        model_limits=limits,
    )


class Progress:
    def __init__(self, context: AssetExecutionContext, stage: Stage, tally: Tally):
        self._log = context.log
        self._stage = stage
        self._tally = tally
        self._last = time.monotonic()

    def report(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        t = self._tally
        self._log.info(
            f"{self._stage.label}: {t.finished}/{t.total} partitions finished ({t.called} called, "
            f"{t.reused} reused without a call, {len(t.failures)} failed); "
            f"${t.charged_usd:.4f} spent in this run"
        )


def failure_for(stage: Stage, tally: Tally, stop_error: LLMCallError | None) -> Failure:
    lines = ["| partition | reason |", "|---|---|"]
    for key, reason in list(tally.failures.items())[:SHOWN_FAILURES]:
        lines.append(f"| {key} | {reason.replace('|', '/')} |")
    first_key, first_reason = next(iter(tally.failures.items()))
    stored = tally.finished - len(tally.failures)
    headline = (
        f"{len(tally.failures)} of {tally.total} {stage.label} partitions failed; the other "
        f"{stored} are stored. Running the same selection again redoes only the failed ones "
        f"(answers already paid for are reused)."
    )
    if stop_error is not None:
        headline += f" The run stopped early: {stop_error}"
    return Failure(
        description=f"{headline} First failure: {first_key}: {first_reason}",
        metadata={
            "failed": len(tally.failures),
            "stored": stored,
            "failed_partitions": MetadataValue.md("\n".join(lines)),
            "failures": MetadataValue.json(tally.failures),
            "failure_kinds": MetadataValue.json(tally.failure_kinds),
        },
    )


def materialize_stage(
    context: AssetExecutionContext, stage: Stage, llm: LLMClientResource, cache_root: Path
) -> Iterator[AssetMaterialization]:
    """Process every partition key of the run for the selected prompt and/or response asset."""
    selected = context.selected_asset_keys
    call_models = stage.response_asset in selected
    keys = list(context.partition_keys)
    known = {asset: context.instance.get_materialized_partitions(asset) for asset in selected}
    tally = Tally(total=len(keys))
    progress = Progress(context, stage, tally)
    runner = (
        make_runner(
            llm,
            stage.model_limits,
            cache_root,
            context.log,
            store=lambda outcome: store_answer(stage.response_folder, outcome),
            request_rates=stage.request_rates,
        )
        if call_models
        else None
    )
    interrupted = False
    try:
        yield from _process(context, stage, llm, runner, keys, known, tally, progress)
    except DagsterExecutionInterruptedError:
        # Ctrl-C: no new call starts; answers already on their way are waited for a little
        # while and stored, then the step ends (the next run continues from there).
        request_stop()
        interrupted = True
        if runner is not None:
            yield from _wind_down(context, stage, runner, tally)
    except GeneratorExit:
        request_stop()
        raise
    finally:
        if runner is not None:
            runner.close(wait=not (interrupted or stop_requested()))
            for warning in runner.price_warnings:
                context.log.warning(warning)
    if interrupted or stop_requested():
        raise Failure(
            description=f"interrupted: {tally.finished - len(tally.failures)} of {tally.total} "
            f"{stage.label} partitions are stored; run the same selection again to continue.",
            metadata={"interrupted": True},
        )
    progress.report(final=True)
    if tally.failures:
        raise failure_for(stage, tally, runner.stop_error if runner else None)


def _process(
    context: AssetExecutionContext,
    stage: Stage,
    llm: LLMClientResource,
    runner: CallRunner | None,
    keys: list[str],
    known: dict,
    tally: Tally,
    progress: Progress,
) -> Iterator[AssetMaterialization]:
    """Plan every key, submit the calls, and report each partition as it finishes; keys whose
    generation a live run is still producing are planned again until it is there."""
    write_prompts = stage.prompt_asset in context.selected_asset_keys
    waiting = keys
    while True:
        if stop_requested():
            for key in waiting:
                tally.fail(key, "not_attempted", "not attempted: the run was interrupted")
            if runner is not None:
                yield from _wind_down(context, stage, runner, tally)
            return
        still_waiting = []
        for number, key in enumerate(waiting, start=1):
            if runner is not None and number % DRAIN_EVERY == 0:
                # Store answers that already came back while the rest are being queued.
                for outcome in runner.drain(0):
                    yield from outcome_events(context, stage, outcome, tally)
            try:
                planned = stage.plan(key)
            except WaitForGeneration:
                still_waiting.append(key)
                continue
            except PartitionFailure as exc:
                tally.fail(key, exc.kind, str(exc))
                context.log.error(f"{key}: {exc}")
                continue
            spec = planned.spec
            yield from prompt_event(stage, key, planned.prompt, spec, known, write_prompts)
            if runner is None:
                tally.prompts_only += 1
                continue
            if planned.done and llm.reuse_stored_responses:
                tally.reused += 1
                if key not in known[stage.response_asset]:
                    path = text_path(stage.response_folder, key)
                    record = planned.stored_record or {}
                    yield response_event(stage, key, record, path, "stored", 0, 0.0)
                continue
            runner.submit(
                CallRequest(
                    key,
                    spec.model,
                    planned.prompt,
                    sha256_text(planned.prompt),
                    spec.temperature,
                    spec.max_tokens,
                    stage.prices.get(spec.model, Prices(None, None)),
                    spec.replicate,
                    made_from=planned.made_from,
                    request_options=spec.request_options,
                )
            )
        waiting = still_waiting
        busy = runner is not None and runner.busy
        if runner is not None:
            for outcome in runner.drain(WAIT_POLL_S if (busy or waiting) else 0):
                yield from outcome_events(context, stage, outcome, tally)
        progress.report()
        if not waiting and not (runner is not None and runner.busy):
            break
        if waiting and not busy:
            time.sleep(WAIT_POLL_S)


def _wind_down(
    context: AssetExecutionContext, stage: Stage, runner: CallRunner, tally: Tally
) -> Iterator[AssetMaterialization]:
    """Store what arrives from calls already in flight, for at most ``GRACE_S`` seconds."""
    deadline = time.monotonic() + GRACE_S
    while runner.busy and time.monotonic() < deadline:
        for outcome in runner.drain(WAIT_POLL_S):
            yield from outcome_events(context, stage, outcome, tally)


def prompt_event(
    stage: Stage, key: str, prompt: str, spec: CallSpec, known: dict, selected: bool
) -> Iterator[AssetMaterialization]:
    """Write the prompt if it changed, so the file always holds what is sent; report it when
    its asset is selected and it changed or Dagster has no record of it."""
    path = text_path(stage.prompt_folder, key)
    unchanged = path.exists() and path.read_text(encoding="utf-8") == prompt
    if not unchanged:
        write_text_atomic(path, prompt, durable=False)  # rebuilt from the templates at no cost
    if not selected or (unchanged and key in known[stage.prompt_asset]):
        return
    yield AssetMaterialization(
        asset_key=stage.prompt_asset,
        partition=key,
        metadata={**spec.metadata, "chars": len(prompt), "path": MetadataValue.path(str(path))},
    )


def response_event(
    stage: Stage, key: str, record: dict, path: Path, source: str, attempts: int, charged: float
) -> AssetMaterialization:
    return AssetMaterialization(
        asset_key=stage.response_asset,
        partition=key,
        metadata=response_metadata(record, path, source, attempts, charged),
    )


def outcome_events(
    context: AssetExecutionContext, stage: Stage, outcome: CallOutcome, tally: Tally
) -> Iterator[AssetMaterialization]:
    key = outcome.request.key
    if not outcome.ok:
        tally.charged_usd += outcome.charged_usd  # paid for even when it could not be stored
        tally.fail(key, outcome.error.kind.value, f"{outcome.error.kind.value}: {outcome.error}")
        context.log.error(f"{key}: {outcome.error}")
        return
    record = dict(outcome.record or {})  # its files were written by the call's worker thread
    path = text_path(stage.response_folder, key)
    if outcome.source == "model":
        tally.called += 1
        tally.charged_usd += outcome.charged_usd
    else:
        tally.reused += 1
    if record.get("truncated"):
        context.log.warning(
            f"{key}: {record.get('requested_model')} stopped at max_tokens="
            f"{record.get('max_tokens')} (finish_reason=length); the stored answer is truncated."
        )
    yield response_event(
        stage, key, record, path, outcome.source, outcome.attempts, outcome.charged_usd
    )
