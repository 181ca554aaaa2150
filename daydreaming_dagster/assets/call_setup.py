"""Everything a batch step's calls need: a runner with its cache, slots, pacing, budget and
retries, and the function that stores each answer beside its partition."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dagster import Failure

from ..experiment.call_identity import sha256_text
from ..llm_calls.budget import CostBudget, SharedCostBudget
from ..llm_calls.call_runner import CallOutcome, CallRequest, CallRunner
from ..llm_calls.database_limits import database
from ..llm_calls.failures import LLMCallError
from ..llm_calls.pacing import RequestPacer
from ..llm_calls.response_cache import ResponseCache
from ..llm_calls.shared_state import shared_state
from ..llm_calls.slots import CallSlots, default_slots_root
from ..records.data_layout import record_path, text_path, write_json_atomic, write_text_atomic
from ..records.postgres_url import postgres_url
from ..resources.llm_client import (
    LLMClientResource,
    LLMConfigurationError,
    LLMResponse,
    is_openrouter,
)


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
    """Request rates and quotas for this endpoint and key, shared by every process (by every
    machine, through the database, when the instance is on PostgreSQL)."""
    account = sha256_text(llm.ensure_api_key())[:16]  # per account; never the key itself
    return RequestPacer(
        shared_state(f"{slots_root.name}/{account}", slots_root / f"limits-{account}.json"),
        llm.invocation or uuid.uuid4().hex,
        rates,
        window_s=llm.rate_limit_window_s,
        free_group_limit=llm.free_models_requests_per_minute,
        free_group_active=is_openrouter(llm.resolved_base_url()),
    )


def make_budget(llm: LLMClientResource) -> CostBudget | SharedCostBudget:
    """The cost cap of this run: in memory for one process; shared by every process of one
    ``daydreaming run`` through its ledger file, or through the database when the instance is on
    PostgreSQL, where worker runs on other machines cannot see that file."""
    if not llm.budget_ledger:
        return CostBudget(llm.max_cost_usd)
    ledger = shared_state(
        f"cost-cap/{llm.invocation or llm.budget_ledger}", Path(llm.budget_ledger)
    )
    return SharedCostBudget(ledger, llm.max_cost_usd)


def database_pools(slots_root: Path):
    """Slot pools in the PostgreSQL database when the instance uses one (limits then hold on
    every machine), else None: lock files under ``slots_root``."""
    url = postgres_url()
    if not url:
        return None
    db = database(url)
    return lambda name, limit: db.pool(f"{slots_root.name}/{name}", limit)


def make_runner(
    llm: LLMClientResource,
    model_limits: dict[str, int | None],
    cache_root: Path,
    log,
    store: Callable[[CallOutcome], None] | None = None,
    request_rates: dict[str, int] | None = None,
) -> CallRunner:
    limits = {model: llm.model_limit(limit) for model, limit in model_limits.items()}
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
        slots=CallSlots(
            slots_root, llm.max_concurrent_per_endpoint, limits, pool=database_pools(slots_root)
        ),
        policy=llm.retry_policy(),
        budget=make_budget(llm),
        reuse=llm.reuse_stored_responses,
        workers=min(llm.max_concurrent_per_endpoint, max(sum(limits.values()), 1)),
        on_retry=on_retry,
        store=store,
        pacer=pacer,
        model_limits=limits,
    )
