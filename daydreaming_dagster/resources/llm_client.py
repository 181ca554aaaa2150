"""The one place LLM calls happen: the openai SDK against any OpenAI-compatible endpoint.

OpenRouter is the default; a local Ollama, vLLM or llama.cpp server works by changing
OPENROUTER_BASE_URL. The API key is read from the environment at call time, so it never becomes
part of Dagster config (which the UI shows) and never reaches a file, a log line or metadata.
"""

import hashlib
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import openai
from dagster import ConfigurableResource
from openai.types.chat import ChatCompletion
from pydantic import Field, PrivateAttr

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
API_KEY_ENV = "OPENROUTER_API_KEY"
BASE_URL_ENV = "OPENROUTER_BASE_URL"


class LLMConfigurationError(RuntimeError):
    """The client cannot be used as configured (e.g. no API key); no call was made."""


class LLMCallError(RuntimeError):
    """A call failed or returned something that must not be stored as an answer."""


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
    cost_usd: float | None
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
    timeout_s: float = Field(default=600.0, description="Per-request timeout in seconds.")
    max_retries: int = Field(
        default=4,
        description="SDK retries for 408/409/429/5xx and dropped connections (honours Retry-After)",
    )

    _client: openai.OpenAI | None = PrivateAttr(default=None)

    def resolved_base_url(self) -> str:
        return self.base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL

    def ensure_api_key(self) -> str:
        """The key, or an error that says how to set it. Called before any request is built."""
        key = os.environ.get(API_KEY_ENV, "").strip()
        if not key:
            raise LLMConfigurationError(
                f"{API_KEY_ENV} is not set, so no model can be called. Copy .env.example to .env "
                f"at the repository root and put your key there ({API_KEY_ENV}=...), or export it "
                "in your shell. For a local OpenAI-compatible server any non-empty value works."
            )
        return key

    def _openai(self) -> openai.OpenAI:
        if self._client is None:
            self._client = openai.OpenAI(
                api_key=self.ensure_api_key(),
                base_url=self.resolved_base_url(),
                timeout=self.timeout_s,
                max_retries=self.max_retries,
            )
        return self._client

    def _redact(self, message: str) -> str:
        key = os.environ.get(API_KEY_ENV, "").strip()
        return message.replace(key, "***") if key else message

    def generate(
        self, *, prompt: str, model: str, temperature: float, max_tokens: int
    ) -> LLMResponse:
        """One chat completion. Raises LLMCallError rather than return an unusable answer."""
        client = self._openai()
        started = time.perf_counter()
        try:
            completion = client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": prompt}],
                temperature=temperature,
                max_tokens=max_tokens,
            )
        except openai.APIStatusError as exc:
            raise LLMCallError(
                self._redact(f"{model}: the server answered HTTP {exc.status_code}: {exc.message}")
            ) from None
        except openai.APIConnectionError as exc:
            raise LLMCallError(
                self._redact(
                    f"{model}: could not reach {self.resolved_base_url()} ({exc}); check "
                    f"{BASE_URL_ENV} and your network, then re-run the failed partitions."
                )
            ) from None
        except openai.APIResponseValidationError as exc:
            raise LLMCallError(
                self._redact(f"{model}: the server's answer was not a chat completion: {exc}")
            ) from None
        latency = time.perf_counter() - started
        if not isinstance(completion, ChatCompletion):
            shown = str(completion)[:200]
            raise LLMCallError(
                f"{model}: the server's answer was not JSON chat-completion data: {shown!r}"
            )
        return self._to_response(completion, prompt, model, temperature, max_tokens, latency)

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
            raise LLMCallError(f"{model}: the answer has no choices; nothing to store.")
        choice = completion.choices[0]
        text = choice.message.content if choice.message else None
        if text is None or not text.strip():
            raise LLMCallError(
                f"{model}: the answer is empty (finish_reason={choice.finish_reason!r}); it was "
                "not stored. Re-run the partition; if it persists, raise max_tokens or pick "
                "another model."
            )
        usage = completion.usage
        extra = (usage.model_extra or {}) if usage else {}
        cost = extra.get("cost")
        return LLMResponse(
            text=text,
            requested_model=model,
            answered_by_model=completion.model,
            finish_reason=choice.finish_reason,
            truncated=choice.finish_reason == "length",
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            total_tokens=usage.total_tokens if usage else None,
            cost_usd=float(cost) if isinstance(cost, int | float) else None,
            latency_s=round(latency, 3),
            temperature=temperature,
            max_tokens=max_tokens,
            prompt_sha256=prompt_digest(prompt),
            provider=(completion.model_extra or {}).get("provider"),
            response_id=completion.id,
            base_url=self.resolved_base_url(),
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
