"""How the mock server answers one chat-completions request (faults, free tier, answers)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from typing import Any

from .answers import (
    JUDGE_MARKER,
    approx_tokens,
    generation_answer,
    judge_answer,
    last_user_text,
    mock_cost_usd,
    prompt_text,
)
from .faults import Fault
from .free_tier import FreeTier
from .http import DEFAULT_ERROR_MESSAGES, HTML_BODY, Handler
from .records import (
    OUTCOME_ANSWER,
    OUTCOME_DISCONNECTED,
    OUTCOME_DROPPED,
    OUTCOME_EMPTY,
    OUTCOME_ERROR,
    OUTCOME_HTML,
    OUTCOME_PENDING,
    OUTCOME_REJECTED,
    OUTCOME_SLOW_ANSWER,
    RecordedRequest,
)


class ChatAnswering:
    """The request handling of ``MockLLMServer``: its state is set up by the server."""

    latency_s: float
    free_tier: FreeTier | None
    _lock: threading.Lock
    _requests: list[RecordedRequest]
    _outcomes: list[list[Any]]
    _faults: list[Fault]
    _fixed: list[tuple[str, str]]
    _fail_always: list[tuple[str, int, str | None]]
    _inflight_now: dict[str, int]
    _inflight_peak: dict[str, int]
    _inflight_total: int
    _inflight_total_peak: int
    _counter: int

    def _take_fault(self, model: str, prompt: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.applies_to(model, prompt):
                    return self._faults.pop(index)
        return None

    def _persistent_failure(self, model: str) -> tuple[int, str | None] | None:
        with self._lock:
            for substring, status, message in self._fail_always:
                if substring in model:
                    return status, message
        return None

    def _fixed_content(self, prompt: str) -> str | None:
        with self._lock:
            for substring, content in self._fixed:
                if substring in prompt:
                    return content
        return None

    def _next_id(self) -> str:
        with self._lock:
            self._counter += 1
            return f"chatcmpl-mock-{self._counter:06d}"

    def _handle_chat(self, handler: Handler) -> None:
        """Parse, record, then answer (or misbehave) for one chat-completions request."""
        raw = handler._read_body()
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            handler._send_error_json(400, "Request body is not valid JSON")
            return
        if not isinstance(body, dict):
            handler._send_error_json(400, "Request body must be a JSON object")
            return
        model, messages = body.get("model"), body.get("messages")
        if not isinstance(model, str) or not isinstance(messages, list):
            handler._send_error_json(400, "'model' (string) and 'messages' (list) are required")
            return

        max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
        cell: list[Any] = [OUTCOME_PENDING, None]  # this request's [outcome, finished_at]
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    model=model,
                    messages=messages,
                    temperature=body.get("temperature"),
                    max_tokens=max_tokens,
                    body=body,
                    headers={k.lower(): v for k, v in handler.headers.items()},
                    path=handler._route(),
                    received_at=time.monotonic(),
                )
            )
            self._outcomes.append(cell)
            now = self._inflight_now.get(model, 0) + 1
            self._inflight_now[model] = now
            self._inflight_peak[model] = max(self._inflight_peak.get(model, 0), now)
            self._inflight_total += 1
            self._inflight_total_peak = max(self._inflight_total_peak, self._inflight_total)
        outcome = OUTCOME_ERROR
        try:
            outcome = self._answer_chat(handler, body, model, messages, max_tokens)
        except (ConnectionError, TimeoutError):
            outcome = OUTCOME_DISCONNECTED  # the client hung up before the reply was sent
            raise
        finally:
            with self._lock:
                cell[:] = [outcome, time.monotonic()]
                self._inflight_now[model] -= 1
                self._inflight_total -= 1
        try:
            handler.wfile.flush()  # the reply leaves only now (see Handler.wbufsize)
        except (ConnectionError, TimeoutError):
            with self._lock:
                cell[0] = OUTCOME_DISCONNECTED
            raise

    def _answer_chat(
        self,
        handler: Handler,
        body: dict[str, Any],
        model: str,
        messages: list[Any],
        max_tokens: Any,
    ) -> str:
        """Send the reply for a recorded request; returns its outcome (see ``outcomes``)."""
        if body.get("stream"):
            handler._send_error_json(400, "Streaming is not supported by the mock server")
            return OUTCOME_REJECTED

        if self.latency_s > 0:
            time.sleep(self.latency_s)

        prompt = prompt_text(messages)
        refusal = self.free_tier.check(model) if self.free_tier is not None else None
        if refusal is not None:
            handler._send_json(refusal.status, refusal.body, refusal.headers)
            return f"http_{refusal.status}"
        failure = self._persistent_failure(model)
        if failure is not None:
            status, message = failure
            handler._send_error_json(status, message or DEFAULT_ERROR_MESSAGES.get(status, "Error"))
            return f"http_{status}"

        fault = self._take_fault(model, prompt)
        content: str | None
        finish_reason = "stop"
        fixed = self._fixed_content(prompt)
        if fixed is not None:
            content = fixed
        else:
            content, finish_reason = self._default_content(model, prompt, messages, max_tokens)

        slow = False
        if fault is not None:
            if fault.kind == "status":
                if fault.seconds > 0:
                    time.sleep(fault.seconds)
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = f"{fault.retry_after:g}"
                message = fault.message or DEFAULT_ERROR_MESSAGES.get(fault.status, "Error")
                handler._send_error_json(fault.status, message, headers)
                return f"http_{fault.status}"
            if fault.kind in ("body_error", "choice_error"):
                # Errors after the request was accepted arrive in a 200 body (OpenRouter).
                error = {
                    "code": fault.status,
                    "message": fault.message or DEFAULT_ERROR_MESSAGES.get(fault.status, "Error"),
                }
                payload = self._completion(model, prompt, "", "error")
                if fault.kind == "body_error":
                    payload = {"error": error}
                else:
                    payload["choices"][0]["error"] = error
                handler._send_json(200, payload)
                return f"body_{fault.status}"
            if fault.kind == "html":
                handler._send_bytes(200, HTML_BODY.encode(), "text/html; charset=utf-8")
                return OUTCOME_HTML
            if fault.kind == "drop":
                handler._drop()
                return OUTCOME_DROPPED
            if fault.kind == "slow":
                time.sleep(fault.seconds)
                slow = True
            elif fault.kind == "empty":
                content, finish_reason = "", "stop"
            elif fault.kind == "null_content":
                content, finish_reason = None, "stop"
            elif fault.kind == "length":
                finish_reason = "length"
            elif fault.kind == "reasoning_exhausted":  # thought until max_tokens, said nothing
                content, finish_reason = "", "length"
            elif fault.kind == "text":
                content, finish_reason = fault.content, "stop"

        completion = self._completion(model, prompt, content, finish_reason)
        # OpenRouter names who served the call, and counts reasoning tokens when asked to think.
        pinned = (body.get("provider") or {}).get("order") or ["mock"]
        completion["provider"] = pinned[0]
        if body.get("reasoning"):
            reasoning = max(1, completion["usage"]["completion_tokens"] // 2)
            completion["usage"]["completion_tokens_details"] = {"reasoning_tokens": reasoning}
        handler._send_json(200, completion)
        if not (content or "").strip():
            return OUTCOME_EMPTY
        return OUTCOME_SLOW_ANSWER if slow else OUTCOME_ANSWER

    @staticmethod
    def _default_content(
        model: str, prompt: str, messages: Sequence[Any], max_tokens: Any
    ) -> tuple[str, str]:
        """Deterministic judge/generation answer, truncated to ``max_tokens`` like a real API."""
        if JUDGE_MARKER in last_user_text(messages):
            content = judge_answer(model, prompt)
        else:
            content = generation_answer(model, prompt)
        if isinstance(max_tokens, int) and max_tokens > 0 and approx_tokens(content) > max_tokens:
            return content[: max_tokens * 4], "length"
        return content, "stop"

    def _completion(
        self, model: str, prompt: str, content: str | None, finish_reason: str
    ) -> dict[str, Any]:
        """Build an OpenAI ``chat.completion`` object with OpenRouter-style ``usage.cost``."""
        prompt_tokens = approx_tokens(prompt)
        completion_tokens = approx_tokens(content or "")
        return {
            "id": self._next_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "cost": mock_cost_usd(model, prompt_tokens, completion_tokens),
            },
        }
