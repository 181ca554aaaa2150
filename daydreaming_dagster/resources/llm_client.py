"""The one place LLM calls happen: the openai SDK against any OpenAI-compatible endpoint.

OpenRouter is the default; a local Ollama, vLLM or llama.cpp server works by changing
OPENROUTER_BASE_URL. The API key is read from the environment at call time, so it never becomes
part of Dagster config (which the UI shows) and never reaches a file, a log line or metadata.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

if TYPE_CHECKING:
    import openai
    from openai.types.chat import ChatCompletion

from ..experiment.call_identity import endpoint_host
from ..experiment.summary_context import is_local_host
from ..llm_calls.endpoint import BASE_URL_ENV, DEFAULT_BASE_URL, resolve_base_url
from ..llm_calls.failures import FailureKind, LLMCallError, RetryPolicy, kind_for_status
from ..llm_calls.rate_limits import RateLimit, is_rate_limit_body, parse_rate_limit

API_KEY_ENV = "OPENROUTER_API_KEY"


def is_openrouter(base_url: str) -> bool:
    """OpenRouter's own endpoint, whose free-tier limits apply from the first call."""
    host = urlsplit(base_url).hostname or ""
    return host == "openrouter.ai" or host.endswith(".openrouter.ai")


class LLMConfigurationError(LLMCallError):
    """The client cannot be used as configured (e.g. no API key); no call was made."""

    def __init__(self, message: str):
        super().__init__(FailureKind.NOT_CONFIGURED, message)


@dataclass(frozen=True)
class LLMResponse:
    """An answer and what it cost; ``call_record`` is what we keep beside the answer on disk."""

    text: str
    requested_model: str
    answered_by_model: str | None
    finish_reason: str | None
    truncated: bool
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    reasoning_tokens: int | None
    cost_usd: float | None
    cost_source: str  # "reported" by the provider, computed from "prices", or "unknown"
    latency_s: float
    temperature: float
    max_tokens: int
    prompt_sha256: str
    provider: str | None
    response_id: str | None
    base_url: str
    created_at: str

    def call_record(self) -> dict[str, Any]:
        record = asdict(self)
        record.pop("text")
        return record


def prompt_digest(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


class LLMClientResource(ConfigurableResource):
    """Chat completions over HTTP with the openai SDK."""

    base_url: str | None = Field(
        default=None,
        description=f"Endpoint; None reads ${BASE_URL_ENV}, else {DEFAULT_BASE_URL}.",
    )
    timeout_s: float = Field(
        default=600.0,
        description="Longest wait for an answer, per attempt (the read timeout); a timed-out "
        "attempt is retried like a 5xx (the CLI's --request-timeout).",
    )
    connect_timeout_s: float = Field(
        default=10.0, description="Longest wait to connect to the endpoint, per attempt."
    )
    max_attempts: int = Field(
        default=6, description="Attempts per call for 429, 5xx, 408, timeouts and bad bodies."
    )
    max_total_wait_s: float = Field(
        default=300.0, description="Longest total wait between attempts of one call (seconds)."
    )
    backoff_initial_s: float = Field(default=1.0, description="First backoff step (seconds).")
    backoff_max_s: float = Field(default=60.0, description="Longest single backoff (seconds).")
    max_concurrent_per_model: int | None = Field(
        default=None,
        description="Calls in flight per model, across every run on this machine; the models "
        "CSVs' max_concurrency column overrides it per model. None: a model's limit is unknown, "
        "so it may use every free slot of the endpoint, and halves its calls in flight after a "
        "rate-limit refusal that names no limit (adaptive concurrency), as Inspect AI does.",
    )
    max_concurrent_per_endpoint: int = Field(
        default=64, description="Calls in flight to the endpoint (provider), across all runs."
    )
    reuse_stored_responses: bool = Field(
        default=True,
        description="Reuse a stored answer to the same prompt, model and parameters instead of "
        "paying for it again. False regenerates (the CLI's --force).",
    )
    max_cost_usd: float | None = Field(
        default=None,
        description="Do not start a call whose worst-case cost would take this run past this "
        "many USD (the CLI's --max-cost).",
    )
    budget_ledger: str | None = Field(
        default=None,
        description="JSON file holding the cost cap's spending, shared by the processes of one "
        "`daydreaming run`; None keeps it in memory for this run.",
    )
    free_models_requests_per_minute: int = Field(
        default=20,
        description="Requests per minute shared by all ':free' models: OpenRouter's free-tier "
        "limit, kept from the start on openrouter.ai and elsewhere once a 429 names it.",
    )
    rate_limit_window_s: float = Field(
        default=60.0,
        description="The length of the 'minute' of per-minute limits (shorter only to simulate "
        "a provider in tests).",
    )
    invocation: str | None = Field(
        default=None,
        description="Shared by the processes of one `daydreaming run`, so a quota refused to "
        "one is known to the other; None gives each run its own.",
    )
    app_title: str = Field(
        default="DayDreaming",
        description="Sent as X-Title, OpenRouter's optional app attribution header.",
    )
    app_url: str | None = Field(
        default=None, description="Sent as HTTP-Referer (OpenRouter's app attribution) when set."
    )
    slots_dir: str | None = Field(
        default=None,
        description="Folder of the cross-run call-slot lock files; None uses one per endpoint "
        "under the system temp folder.",
    )

    _client: Any = PrivateAttr(default=None)  # an openai.OpenAI, made at the first call

    def resolved_base_url(self) -> str:
        return resolve_base_url(self.base_url)

    def ensure_api_key(self) -> str:
        """The key, or an error that says how to set it. Called before any request is built."""
        key = os.environ.get(API_KEY_ENV, "").strip()
        if not key and is_local_host(endpoint_host(self.resolved_base_url())):
            return "local"  # a server on this machine or network: any key will do
        if not key:
            raise LLMConfigurationError(
                f"{API_KEY_ENV} is not set, so no model can be called. Copy .env.example to .env "
                f"at the repository root and put your key there ({API_KEY_ENV}=...), or export it "
                "in your shell. A server on this machine or a private network needs no key."
            )
        return key

    def prepare_client(self) -> None:
        """Import the SDK and make the client before calls start in many threads at once."""
        self._openai()

    def _openai(self) -> openai.OpenAI:
        # Imported here, not with the module: every Dagster process loads the definitions, and
        # the SDK takes about 0.5 s to import; only processes that call a model need it.
        import openai

        if self._client is None:
            headers = {"X-Title": self.app_title}
            if self.app_url:
                headers["HTTP-Referer"] = self.app_url
            self._client = openai.OpenAI(
                api_key=self.ensure_api_key(),
                base_url=self.resolved_base_url(),
                # Connecting gets a short timeout of its own; the answer may take long.
                timeout=openai.Timeout(self.timeout_s, connect=self.connect_timeout_s),
                max_retries=0,  # retries are ours: bounded, logged, and aware of the run
                default_headers=headers,
            )
        return self._client

    def model_limit(self, configured: int | None) -> int:
        """Calls in flight one model may have: its own limit, never above the endpoint's; an
        unknown one (None) is the endpoint's."""
        endpoint = self.max_concurrent_per_endpoint
        return endpoint if configured is None else max(1, min(configured, endpoint))

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            max_total_wait_s=self.max_total_wait_s,
            backoff_initial_s=self.backoff_initial_s,
            backoff_max_s=self.backoff_max_s,
        )

    def _redact(self, message: str) -> str:
        key = os.environ.get(API_KEY_ENV, "").strip()
        return message.replace(key, "***") if key else message

    def generate(
        self,
        *,
        prompt: str,
        model: str,
        temperature: float,
        max_tokens: int,
        extra_body: dict | None = None,
    ) -> LLMResponse:
        """One attempt at a chat completion; failures raise LLMCallError with their kind.

        Retrying is the caller's job (see ``llm_calls.retrying``), so that waiting happens
        outside the call slots and every attempt is counted.
        """
        import openai
        from openai.types.chat import ChatCompletion

        client = self._openai()
        started = time.perf_counter()
        try:
            completion = client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": prompt}],
                temperature=temperature,
                max_tokens=max_tokens,
                extra_body=extra_body,  # e.g. OpenRouter's reasoning and provider settings
            )
        except openai.APIStatusError as exc:
            headers = dict(exc.response.headers) if exc.response is not None else {}
            raise self._status_error(model, exc.status_code, exc.body, headers) from None
        except openai.APITimeoutError:
            raise LLMCallError(
                FailureKind.TIMEOUT, f"{model}: no answer within {self.timeout_s:g} s."
            ) from None
        except openai.APIConnectionError as exc:
            raise LLMCallError(
                FailureKind.CONNECTION,
                self._redact(
                    f"{model}: could not reach {self.resolved_base_url()} ({exc}); check "
                    f"{BASE_URL_ENV} and your network, then re-run the failed partitions."
                ),
            ) from None
        except (openai.APIResponseValidationError, ValueError) as exc:
            raise LLMCallError(
                FailureKind.BAD_BODY,
                self._redact(f"{model}: the server's answer was not a chat completion: {exc}"),
            ) from None
        latency = time.perf_counter() - started
        if not isinstance(completion, ChatCompletion):
            shown = str(completion)[:200]
            raise LLMCallError(
                FailureKind.BAD_BODY,
                f"{model}: the server's answer was not JSON chat-completion data: {shown!r}",
            )
        self._raise_body_error(model, completion)
        return self._to_response(completion, prompt, model, temperature, max_tokens, latency)

    def _status_error(
        self, model: str, status: int, body: Any, headers: dict[str, str]
    ) -> LLMCallError:
        """An HTTP error (or an error reported inside a 200 body) as a typed failure; a 429
        also says which limit it hit and when that resets."""
        error = body.get("error", body) if isinstance(body, dict) else {}
        message = str(error.get("message") or body or "") if isinstance(error, dict) else ""
        limit: RateLimit | None = None
        if status == 429:
            limit = parse_rate_limit(body, headers)
        text = f"{model}: the server answered HTTP {status}: {message}".rstrip(": ")
        return LLMCallError(
            kind_for_status(status),
            self._redact(text),
            status=status,
            retry_after_s=limit.wait_s() if limit is not None else None,
            rate_limit=limit,
        )

    def _raise_body_error(self, model: str, completion: ChatCompletion) -> None:
        """Providers such as OpenRouter report an error that happened after the request was
        accepted inside a 200 body (top level, or as a choice that ended in ``error``)."""
        extra = completion.model_extra or {}
        error = extra.get("error")
        if not isinstance(error, dict):
            for choice in completion.choices or []:
                choice_error = (choice.model_extra or {}).get("error")
                if choice.finish_reason == "error" or isinstance(choice_error, dict):
                    error = choice_error if isinstance(choice_error, dict) else {"code": 502}
                    break
        if not isinstance(error, dict):
            return
        try:
            status = int(error.get("code") or 0)
        except (TypeError, ValueError):
            status = 0
        if status < 400:
            status = 429 if is_rate_limit_body({"error": error}) else 502
        raise self._status_error(model, status, {"error": error}, {})

    def _to_response(
        self,
        completion: ChatCompletion,
        prompt: str,
        model: str,
        temperature: float,
        max_tokens: int,
        latency: float,
    ) -> LLMResponse:
        if not completion.choices:
            raise LLMCallError(
                FailureKind.BAD_BODY, f"{model}: the answer has no choices; nothing to store."
            )
        choice = completion.choices[0]
        text = choice.message.content if choice.message else None
        if (text is None or not text.strip()) and choice.finish_reason == "length":
            raise LLMCallError(
                FailureKind.EMPTY_ANSWER,
                f"{model}: reasoning used the whole budget; raise max_tokens (reasoning tokens "
                "share it with the answer) or lower reasoning_effort / reasoning_max_tokens in "
                "the models CSV.",
            )
        if text is None or not text.strip():
            raise LLMCallError(
                FailureKind.EMPTY_ANSWER,
                f"{model}: the answer is empty (finish_reason={choice.finish_reason!r}); it was "
                "not stored. Re-run the partition; if it persists, raise max_tokens or pick "
                "another model.",
            )
        usage = completion.usage
        extra = (usage.model_extra or {}) if usage else {}
        cost = extra.get("cost")
        details = getattr(usage, "completion_tokens_details", None) if usage else None
        reasoning_tokens = getattr(details, "reasoning_tokens", None) if details else None
        return LLMResponse(
            text=text,
            requested_model=model,
            answered_by_model=completion.model,
            finish_reason=choice.finish_reason,
            truncated=choice.finish_reason == "length",
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            total_tokens=usage.total_tokens if usage else None,
            reasoning_tokens=reasoning_tokens,
            cost_usd=float(cost) if isinstance(cost, int | float) else None,
            cost_source="reported" if isinstance(cost, int | float) else "unknown",
            latency_s=round(latency, 3),
            temperature=temperature,
            max_tokens=max_tokens,
            prompt_sha256=prompt_digest(prompt),
            provider=(completion.model_extra or {}).get("provider"),
            response_id=completion.id,
            base_url=self.resolved_base_url(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
