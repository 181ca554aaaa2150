"""Many model calls at once, each paid for at most once.

A ``CallRunner`` takes call requests as they become ready and runs them on a thread pool. Each
call first looks in the response cache, then reserves its worst-case cost, then holds a slot of
its model and of the endpoint for each attempt (released while it backs off), and stores the
answer in the cache the moment it arrives. Finished calls come back through ``drain`` in the
caller's thread, which is where files are written and Dagster events are emitted.

A rejected key or exhausted credit stops the whole runner: calls not yet started fail at once as
not attempted instead of each burning its own retries. A bad request (an unknown model, say)
stops further calls to that model only.
"""

import json
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Protocol

from .adaptive_concurrency import AdaptiveGate
from .budget import CostBudget, Prices, SharedCostBudget, worst_case_prompt_tokens
from .failures import STOPS_THE_MODEL, STOPS_THE_RUN, FailureKind, LLMCallError, RetryPolicy
from .interrupt import stop_requested
from .pacing import RequestPacer, wait_until
from .rate_limits import LimitScope
from .response_cache import ResponseCache, call_key
from .retrying import call_with_retries
from .slots import CallSlots


class Client(Protocol):
    def generate(
        self,
        *,
        prompt: str,
        model: str,
        temperature: float,
        max_tokens: int,
        extra_body: dict | None = None,
    ): ...

    def resolved_base_url(self) -> str: ...


@dataclass(frozen=True)
class CallRequest:
    key: str  # the partition key the answer belongs to
    model: str
    prompt: str
    prompt_sha256: str
    temperature: float
    max_tokens: int
    prices: Prices
    replicate: int | str = 1
    # What else the answer is made from, recorded beside it (see assets.partition_batches).
    made_from: Mapping[str, str] = field(default_factory=dict)
    # Canonical JSON of what else is sent (reasoning, provider pinning); part of the call.
    request_options: str = ""


@dataclass(frozen=True)
class CallOutcome:
    request: CallRequest
    text: str | None = None
    record: dict | None = None
    source: str = ""  # "model" (paid now) or "cache" (paid earlier)
    attempts: int = 0
    charged_usd: float = 0.0
    error: LLMCallError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class CallRunner:
    """A thread pool of model calls with cache, budget, slots, retries and early stopping."""

    def __init__(
        self,
        client: Client,
        to_answer: Callable[[object], tuple[str, dict]],
        *,
        cache: ResponseCache,
        slots: CallSlots,
        policy: RetryPolicy,
        budget: CostBudget | SharedCostBudget,
        reuse: bool,
        workers: int,
        on_retry: Callable[[CallRequest, LLMCallError, float], None] | None = None,
        store: Callable[[CallOutcome], None] | None = None,
        pacer: RequestPacer | None = None,
        model_limits: dict[str, int] | None = None,
    ):
        self._client = client
        # Writes an answered partition's files in the worker thread, before its outcome is
        # handed back: the thread that reports to Dagster then never waits on the disk.
        self._store = store
        self._to_answer = to_answer
        self._cache = cache
        self._slots = slots
        self._policy = policy
        self._budget = budget
        self._reuse = reuse
        self._on_retry = on_retry
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="llm")
        self._done: queue.Queue[CallOutcome] = queue.Queue()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._stop_error: LLMCallError | None = None
        self._stopped_models: dict[str, LLMCallError] = {}
        # USD per token a provider actually charged, where it was more than the CSV prices say.
        self._observed_rate: dict[str, float] = {}
        # Under a cost cap, the first call to each model runs alone, so a wrong price in the CSV
        # is noticed after one answer rather than after a whole batch in flight.
        self._first_call_locks: dict[str, threading.Lock] = {}
        self.price_warnings: list[str] = []
        self._warned_models: set[str] = set()
        # Call keys being answered right now: an identical call waits for that answer instead
        # of paying for the same question a second time.
        self._answering: dict[str, threading.Event] = {}
        self._unanswered: dict[str, LLMCallError] = {}
        # Request rates and quotas shared with every process (see pacing), and per-model
        # concurrency that shrinks after refusals of unknown limits.
        self._pacer = pacer
        self._gates = {m: AdaptiveGate(n) for m, n in (model_limits or {}).items()}
        self.quota_stops: dict[str, str] = {}  # model -> why its quota stopped it

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._in_flight > 0 or not self._done.empty()

    @property
    def stop_error(self) -> LLMCallError | None:
        return self._stop_error

    def submit(self, request: CallRequest) -> None:
        with self._lock:
            self._in_flight += 1
        self._pool.submit(self._run_and_report, request)

    def drain(self, wait_s: float) -> list[CallOutcome]:
        """Finished outcomes; waits up to ``wait_s`` for the first one if none is ready."""
        outcomes: list[CallOutcome] = []
        try:
            first = self._done.get(timeout=wait_s) if wait_s > 0 else self._done.get_nowait()
        except queue.Empty:
            return outcomes
        outcomes.append(first)
        while True:
            try:
                outcomes.append(self._done.get_nowait())
            except queue.Empty:
                return outcomes

    def close(self, wait: bool = True) -> None:
        """Cancel calls not yet started; ``wait`` for the ones in flight (not after Ctrl-C:
        their answers, if they arrive, are still cached by their threads)."""
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _run_and_report(self, request: CallRequest) -> None:
        try:
            outcome = self._run(request)
            if outcome.ok and self._store is not None:
                outcome = self._stored(outcome)
        except Exception as exc:  # a bug must not make the caller wait forever
            outcome = CallOutcome(
                request, error=LLMCallError(FailureKind.NOT_ATTEMPTED, f"internal error: {exc!r}")
            )
        with self._lock:
            self._in_flight -= 1
            self._done.put(outcome)

    def _stored(self, outcome: CallOutcome) -> CallOutcome:
        try:
            self._store(outcome)
        except OSError as exc:
            return CallOutcome(
                outcome.request,
                source=outcome.source,
                attempts=outcome.attempts,
                charged_usd=outcome.charged_usd,
                error=LLMCallError(
                    FailureKind.NOT_STORED,
                    f"the answer could not be written ({exc}); it is kept in the response "
                    "cache, so re-running the partition stores it without a new call.",
                ),
            )
        return outcome

    def _not_attempted(self, request: CallRequest) -> CallOutcome | None:
        if stop_requested():
            return CallOutcome(
                request,
                error=LLMCallError(
                    FailureKind.NOT_ATTEMPTED, "not attempted: the run was interrupted"
                ),
            )
        if self._stop_error is not None:
            return CallOutcome(
                request,
                error=LLMCallError(
                    FailureKind.NOT_ATTEMPTED,
                    f"not attempted: the run stopped after an earlier call failed "
                    f"({self._stop_error.kind.value}): {self._stop_error}",
                ),
            )
        exhausted = self._pacer.exhausted(request.model) if self._pacer is not None else None
        if exhausted is not None:
            reason = f"{request.model}: the daily quota is gone ({exhausted.describe()})"
            self.quota_stops.setdefault(request.model, reason)
            return CallOutcome(
                request,
                error=LLMCallError(FailureKind.QUOTA_EXHAUSTED, f"not attempted: {reason}"),
            )
        stopped = self._stopped_models.get(request.model)
        if stopped is not None:
            return CallOutcome(
                request,
                error=LLMCallError(
                    FailureKind.NOT_ATTEMPTED,
                    f"not attempted: an earlier call to {request.model} was refused: {stopped}",
                ),
            )
        return None

    def _run(self, request: CallRequest) -> CallOutcome:
        key = call_key(
            self._client.resolved_base_url(),
            request.model,
            request.prompt_sha256,
            request.temperature,
            request.max_tokens,
            request.replicate,
            request.request_options,
        )
        if not self._reuse:
            return self._call(request, key)
        hit = self._cache.get(key)
        if hit is not None:
            return CallOutcome(request, text=hit.text, record=hit.record, source="cache")
        with self._lock:
            answering = self._answering.get(key)
            if answering is None:
                self._answering[key] = threading.Event()
        if answering is not None:
            answering.wait()
            hit = self._cache.get(key)
            if hit is not None:
                return CallOutcome(request, text=hit.text, record=hit.record, source="cache")
            return CallOutcome(request, error=self._unanswered.get(key) or self._internal(key))
        outcome = None
        try:
            outcome = self._call(request, key)
            return outcome
        finally:
            with self._lock:
                if outcome is None or outcome.error is not None:
                    self._unanswered[key] = outcome.error if outcome else self._internal(key)
                self._answering.pop(key).set()

    @staticmethod
    def _internal(key: str) -> LLMCallError:
        return LLMCallError(FailureKind.NOT_ATTEMPTED, f"the identical call {key[:12]} failed")

    def _call(self, request: CallRequest, key: str) -> CallOutcome:
        skipped = self._not_attempted(request)
        if skipped is not None:
            return skipped
        capped = self._budget.max_usd is not None
        if capped and request.model not in self._observed_rate:
            with self._lock:
                first = self._first_call_locks.setdefault(request.model, threading.Lock())
            with first:
                return self._reserve_and_call(request, key)
        return self._reserve_and_call(request, key)

    def _worst_case(self, request: CallRequest) -> float | None:
        tokens = worst_case_prompt_tokens(request.prompt) + request.max_tokens
        from_prices = request.prices.cost(
            worst_case_prompt_tokens(request.prompt), request.max_tokens
        )
        rate = self._observed_rate.get(request.model)
        if rate is None:
            return from_prices
        return max(from_prices or 0.0, rate * tokens)

    def _learn_price(self, request: CallRequest, record: dict) -> None:
        """Remember when the provider charged more than the CSV prices imply, and say so."""
        reported = record.get("cost_usd")
        tokens = (record.get("prompt_tokens") or 0) + (record.get("completion_tokens") or 0)
        if reported is None or tokens <= 0:
            self._observed_rate.setdefault(request.model, 0.0)
            return
        expected = request.prices.cost(
            record.get("prompt_tokens") or 0, record.get("completion_tokens") or 0
        )
        rate = float(reported) / tokens
        overcharged = expected is not None and reported > expected * 1.01 + 1e-9
        if overcharged and request.model not in self._warned_models:
            self._warned_models.add(request.model)
            self.price_warnings.append(
                f"{request.model} was charged ${reported:.6f} for {tokens} tokens, more than "
                f"its prices in the models CSV imply (${expected:.6f}); update the CSV. "
                "Further calls are budgeted at the observed rate."
            )
        with self._lock:
            self._observed_rate[request.model] = max(
                rate, self._observed_rate.get(request.model, 0.0)
            )

    def _reserve_and_call(self, request: CallRequest, key: str) -> CallOutcome:
        worst_case = self._worst_case(request)
        if worst_case is None and self._budget.max_usd is not None:
            return CallOutcome(
                request,
                error=LLMCallError(
                    FailureKind.BUDGET,
                    f"not attempted: {request.model} has no price in the models CSV, so a cost "
                    "cap cannot be kept; add input_usd_per_mtok and output_usd_per_mtok.",
                ),
            )
        reserved = worst_case or 0.0
        if not self._budget.reserve(reserved):
            return CallOutcome(
                request,
                error=LLMCallError(
                    FailureKind.BUDGET,
                    f"not attempted: its worst case (${reserved:.4f}) would pass the cost cap of "
                    f"${self._budget.max_usd:.4f} (spent so far ${self._budget.spent:.4f}).",
                ),
            )
        try:
            answer, attempts = call_with_retries(
                lambda: self._attempt(request),
                self._policy,
                on_retry=(
                    (lambda exc, wait: self._on_retry(request, exc, wait))
                    if self._on_retry
                    else None
                ),
            )
        except LLMCallError as exc:
            self._budget.settle(reserved, 0.0)
            if exc.kind in STOPS_THE_RUN and self._stop_error is None:
                self._stop_error = exc
            if exc.kind in STOPS_THE_MODEL:
                self._stopped_models.setdefault(request.model, exc)
            return CallOutcome(request, error=exc)
        text, record = self._to_answer(answer)
        record = {**record, "replicate": request.replicate}
        if request.request_options:
            record["request_options"] = request.request_options
        if record.get("cost_usd") is None:
            computed = request.prices.cost(
                record.get("prompt_tokens") or 0, record.get("completion_tokens") or 0
            )
            if computed is not None:
                record = {**record, "cost_usd": computed, "cost_source": "prices"}
        charged = float(record.get("cost_usd") or 0.0)
        self._learn_price(request, record)
        self._budget.settle(reserved, charged)
        self._cache.put(key, text, record)
        return CallOutcome(
            request,
            text=text,
            record=record,
            source="model",
            attempts=attempts,
            charged_usd=charged,
        )

    def _attempt(self, request: CallRequest):
        skipped = self._not_attempted(request)
        if skipped is not None:
            raise skipped.error  # type: ignore[misc]
        if self._pacer is not None:
            start = self._pacer.reserve(request.model)
            if not wait_until(start, lambda: self._not_attempted(request) is not None):
                raise self._not_attempted(request).error  # type: ignore[union-attr, misc]
        gate = self._gates.get(request.model)
        with gate.hold() if gate is not None else nullcontext():
            with self._slots.hold(request.model):
                # The run or this model may have been stopped while this call waited.
                skipped = self._not_attempted(request)
                if skipped is not None:
                    raise skipped.error  # type: ignore[misc]
                try:
                    answer = self._client.generate(
                        prompt=request.prompt,
                        model=request.model,
                        temperature=request.temperature,
                        max_tokens=request.max_tokens,
                        extra_body=(
                            json.loads(request.request_options) if request.request_options else None
                        ),
                    )
                except LLMCallError as exc:
                    raise self._after_refusal(request, exc, gate) from None
                finally:
                    if self._pacer is not None:
                        self._pacer.probe_done(request.model)
        if gate is not None:
            gate.answered()
        if self._pacer is not None:
            self._pacer.clear(request.model)
        return answer

    def _after_refusal(
        self, request: CallRequest, exc: LLMCallError, gate: AdaptiveGate | None
    ) -> LLMCallError:
        """What a rate-limit refusal means for the calls after it: a daily quota stops every
        model under it; a per-minute limit pauses them until it resets; an unknown one means
        fewer calls at once."""
        if exc.kind is not FailureKind.RATE_LIMITED or self._pacer is None:
            return exc
        limit = exc.rate_limit
        if limit is not None and limit.scope is LimitScope.DAY:
            entry = self._pacer.exhaust(request.model, limit)
            reason = f"{request.model}: the daily quota is gone ({entry.describe()})"
            self.quota_stops.setdefault(request.model, reason)
            return LLMCallError(
                FailureKind.QUOTA_EXHAUSTED, reason, status=exc.status, rate_limit=limit
            )
        if limit is not None and limit.scope is LimitScope.MINUTE:
            until = self._pacer.pause(request.model, limit)
            exc.retry_after_s = max(0.0, until - time.time())
            if not limit.free_models and gate is not None:
                gate.refused()
            return exc
        if gate is not None:
            gate.refused()
        return exc
