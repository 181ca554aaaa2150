"""A tiny OpenAI-compatible chat-completions server for tests, benchmarks and keyless demos.

Why it exists: the pipeline talks to LLMs through the ``openai`` SDK against any
OpenAI-compatible endpoint (OpenRouter in production). Pointing the SDK at this server lets
tests assert exactly what was sent (model, messages, sampling parameters, API key) and what each
request got back (``outcomes``), script failures (``Fault``), check concurrency limits
(``peak_in_flight``), lets benchmarks measure pipeline overhead with a controlled per-request
latency, and lets users run the whole pipeline without an API key. Answers are deterministic
(derived from a sha256 of model + prompt) so repeated runs produce identical artifacts and judge
scores.

Only the standard library is used so the server can run anywhere the package is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from .mock_free_tier import FreeTier

__all__ = [
    "DEFAULT_MODELS",
    "FAULT_KINDS",
    "Exchange",
    "Fault",
    "FaultKind",
    "MockLLMServer",
    "OUTCOME_ANSWER",
    "RecordedRequest",
    "run_mock_server",
]

FaultKind = Literal[
    "status",
    "html",
    "drop",
    "empty",
    "null_content",
    "slow",
    "length",
    "text",
    "body_error",
    "choice_error",
    "reasoning_exhausted",
]
FAULT_KINDS: frozenset[str] = frozenset(FaultKind.__args__)  # type: ignore[attr-defined]

DEFAULT_MODELS: tuple[str, ...] = (
    "mock/generator-small",
    "mock/generator-large",
    "mock/judge",
    "openai/gpt-4o-mini",
    "anthropic/claude-3.5-sonnet",
    # The project's models CSVs, so a preflight against the mock finds every active model.
    "deepseek/deepseek-r1:free",
    "google/gemma-3-27b-it:free",
    "meta-llama/llama-3.3-70b-instruct",
    "qwen/qwq-32b",
    "openai/gpt-4o-2024-11-20",
    "anthropic/claude-3.7-sonnet",
    "deepseek/deepseek-chat-v3-0324:free",
    "google/gemini-2.5-flash",
    "anthropic/claude-sonnet-4",
    "openai/gpt-4.1",
)

_CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
_MODELS_PATHS = frozenset({"/v1/models", "/models"})
_JUDGE_MARKER = "SCORE:"

_DEFAULT_ERROR_MESSAGES: dict[int, str] = {
    400: "Bad request",
    401: "Invalid API key",
    403: "Forbidden",
    404: "Model not found",
    429: "Rate limit exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}

# What the server did with a request (see ``MockLLMServer.outcomes``). Only ``OUTCOME_ANSWER``
# is a usable answer delivered on time; a "slow" fault's answer may arrive after the client gave up.
OUTCOME_PENDING = "pending"
OUTCOME_ANSWER = "answer"
OUTCOME_SLOW_ANSWER = "slow_answer"
OUTCOME_EMPTY = "empty_answer"
OUTCOME_HTML = "html"
OUTCOME_DROPPED = "dropped"
OUTCOME_REJECTED = "rejected"  # a request the mock cannot serve (streaming)
OUTCOME_DISCONNECTED = "disconnected"  # the client hung up before the reply was written
OUTCOME_ERROR = "error"  # the mock itself failed while answering (a bug in the mock)

_HTML_BODY = (
    "<!DOCTYPE html>\n<html><head><title>Gateway notice</title></head>"
    "<body><h1>Service temporarily unavailable</h1>"
    "<p>This HTML page was returned by the mock LLM server with status 200.</p>"
    "</body></html>\n"
)


@dataclass(frozen=True)
class RecordedRequest:
    """One chat-completions request as received, so tests can assert on what the client sent.

    ``headers`` keys are lower-cased because HTTP header names are case-insensitive and tests
    should not depend on the client's capitalisation (e.g. ``headers["authorization"]``).
    """

    model: str
    messages: list[dict[str, Any]]
    temperature: float | None
    max_tokens: int | None
    body: dict[str, Any]
    headers: dict[str, str]
    path: str = "/v1/chat/completions"
    received_at: float = 0.0  # time.monotonic() when the request was parsed

    @property
    def prompt(self) -> str:
        """All message contents joined; handy for substring assertions."""
        return _prompt_text(self.messages)


@dataclass(frozen=True)
class Exchange:
    """A recorded request and what the server did with it (see ``MockLLMServer.outcomes``).

    ``finished_at`` is ``time.monotonic()`` when the reply was written (or the connection
    dropped); None while the request is still being handled.
    """

    request: RecordedRequest
    outcome: str
    finished_at: float | None


@dataclass(frozen=True)
class Fault:
    """A one-shot misbehaviour consumed by the next matching chat request.

    Why: callers must cope with rate limits, gateway HTML pages, dropped sockets and empty
    answers; scripting them here makes those code paths testable without a real provider.

    Fields used per kind: ``status`` -> ``status``, ``retry_after``, ``message`` and
    ``seconds`` (an optional delay before the error is sent); ``slow`` -> ``seconds``;
    ``text`` -> ``content``. ``match`` (optional) restricts the fault to requests whose model or
    prompt contains that substring; ``model`` (optional) restricts it to requests for exactly
    that model. Both together target one (model, prompt) call, e.g. one partition of a batch
    whose calls arrive in no particular order.
    """

    kind: FaultKind
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    content: str = ""
    message: str | None = None
    match: str | None = None
    model: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}"
            )

    def applies_to(self, model: str, prompt: str) -> bool:
        """True when this fault should fire for a request with this model and prompt."""
        if self.model is not None and self.model != model:
            return False
        return self.match is None or self.match in model or self.match in prompt


def _approx_tokens(text: str) -> int:
    """Cheap token estimate (≈4 chars per token) — good enough for usage/cost bookkeeping."""
    return max(1, len(text) // 4)


def _content_text(content: Any) -> str:
    """Flatten a message ``content`` (string or list of content parts) into plain text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return ""


def _prompt_text(messages: Sequence[Any]) -> str:
    """Join every message's text; this is what hashing and substring matching look at."""
    return "\n".join(_content_text(m.get("content")) for m in messages if isinstance(m, dict))


def _last_user_text(messages: Sequence[Any]) -> str:
    """Text of the last user message (falls back to the last message of any role)."""
    dict_messages = [m for m in messages if isinstance(m, dict)]
    for message in reversed(dict_messages):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return _content_text(dict_messages[-1].get("content")) if dict_messages else ""


def _digest(model: str, prompt: str) -> str:
    """Stable hex digest of model + prompt: the source of all deterministic variation."""
    return hashlib.sha256(f"{model}\x00{prompt}".encode()).hexdigest()


def _pick(options: Sequence[str], digest: str, slot: int) -> str:
    """Choose an option using two hex digits of the digest at ``slot`` (deterministic)."""
    return options[int(digest[slot * 2 : slot * 2 + 2], 16) % len(options)]


def judge_score(model: str, prompt: str) -> float:
    """Deterministic score in 0.0..10.0 (one decimal) for a judge request."""
    return int(_digest(model, prompt)[:8], 16) % 101 / 10


def judge_answer(model: str, prompt: str) -> str:
    """A short reasoning block ending with ``SCORE: x`` like a real judge response."""
    digest = _digest(model, prompt)
    quality = ("limited", "partial", "reasonable", "clear", "strong")
    novelty = ("incremental", "moderately novel", "fairly original", "surprisingly original")
    mechanism = ("vague", "sketched", "plausible", "concretely specified")
    lines = [
        f"Evaluation by {model} (prompt {digest[:8]}):",
        f"- The response shows {_pick(quality, digest, 4)} integration of the given concepts.",
        f"- The central idea is {_pick(novelty, digest, 5)}.",
        f"- The proposed mechanism is {_pick(mechanism, digest, 6)}.",
        "- Weighing these points against the rubric gives the score below.",
        f"SCORE: {judge_score(model, prompt):.1f}",
    ]
    return "\n".join(lines)


def generation_answer(model: str, prompt: str) -> str:
    """A deterministic ~200-word idea proposal mentioning the model and a prompt hash."""
    digest = _digest(model, prompt)
    short = digest[:8]
    opener = _pick(
        (
            "The most promising direction",
            "One idea worth developing",
            "A concrete proposal",
            "The combination I find most interesting",
        ),
        digest,
        0,
    )
    engine = _pick(
        (
            "a background process that keeps recombining stored ideas",
            "a loop that pairs distant concepts and tests whether they fit together",
            "an explorer that samples unusual associations while the main task is idle",
            "a generator that proposes connections and a critic that filters them",
        ),
        digest,
        1,
    )
    payoff = _pick(
        (
            "occasionally surfaces insights no single prompt would produce",
            "turns idle compute into a steady trickle of candidate discoveries",
            "builds a growing library of vetted, non-obvious connections",
            "lets the system notice patterns it was never explicitly asked about",
        ),
        digest,
        2,
    )
    risk = _pick(
        ("cost", "noise from low-quality pairings", "evaluation drift", "redundant ideas"),
        digest,
        3,
    )
    paragraphs = [
        f"[mock answer from {model}, prompt hash {short}] {opener} here is to treat the listed "
        f"concepts as parts of a single mechanism rather than as separate topics. Concretely, "
        f"I would build {engine}. Each candidate connection is written down, scored, and either "
        f"discarded or kept for later reuse, so the process accumulates value over time.",
        f"The key insight is that the concepts reinforce one another: one supplies raw "
        f"variation, another supplies a way to judge that variation, and a memory keeps the "
        f"best results available as seeds for the next round. Run repeatedly, this loop "
        f"{payoff}. It also gives a natural place to inject domain knowledge, because the "
        f"critic can be tuned without touching the generator.",
        f"The main risk is {risk}, which I would address by sampling conservatively at first, "
        f"measuring how often kept ideas prove useful, and adjusting the filter threshold. A "
        f"small pilot with a fixed budget would show quickly whether the approach is worth "
        f"scaling. In short: combine generation, evaluation and memory into one continuous "
        f"cycle, and let it run. (Reference {short}, model {model}.)",
    ]
    return "\n\n".join(paragraphs)


class _QuietThreadingHTTPServer(ThreadingHTTPServer):
    """HTTP server that knows its owner and stays silent when clients hang up early."""

    daemon_threads = True
    # socketserver's default backlog of 5 makes the kernel drop connection attempts when a client
    # opens many at once; the client then retries about a second later, which would distort
    # latency and concurrency measurements.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: MockLLMServer) -> None:
        self.owner = owner
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore disconnects (client timeouts are normal in tests); report anything else."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Request handler; all state lives on the owning ``MockLLMServer``.

    HTTP/1.1 with keep-alive, as real providers serve it: a client reuses its connections
    instead of opening one per request (which would make every call cost a TCP handshake and a
    new server thread, and the benchmark measure that instead of the pipeline). Every response
    carries Content-Length; idle connections end with the client or the process (the handler
    threads are daemons).
    """

    server: _QuietThreadingHTTPServer
    server_version = "MockLLMServer/1.0"
    protocol_version = "HTTP/1.1"
    # Replies are buffered and sent in one write once the request's outcome is recorded: the
    # client cannot see a reply before the server's record of it, and headers and body do not
    # go out as two small writes (the second would wait ~40 ms for the client's delayed ACK).
    wbufsize = 1 << 20

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging to keep test output clean."""

    # --- routing -------------------------------------------------------------------------

    def _route(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/") or "/"

    def do_GET(self) -> None:
        if self._route() in _MODELS_PATHS:
            data = [model_listing(m) for m in self.server.owner.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_error_json(404, f"Unknown path: {self.path}")

    def do_POST(self) -> None:
        if self._route() not in _CHAT_PATHS:
            self._read_body()
            self._send_error_json(404, f"Unknown path: {self.path}")
            return
        self.server.owner._handle_chat(self)

    def _method_not_allowed(self) -> None:
        self._read_body()
        self._send_error_json(405, f"Method {self.command} not allowed")

    do_PUT = do_DELETE = do_PATCH = _method_not_allowed

    # --- I/O helpers ---------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_bytes(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _send_json(
        self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        self._send_bytes(status, json.dumps(payload).encode(), "application/json", headers)

    def _send_error_json(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._send_json(status, {"error": {"message": message, "code": status}}, headers)

    def _drop(self) -> None:
        """Close the socket without sending a single byte (simulates a network failure)."""
        self.close_connection = True


class MockLLMServer:
    """OpenAI-compatible mock server running in a background thread.

    Use as ``with MockLLMServer(latency_s=0.0) as server:`` (binds 127.0.0.1 on an OS-assigned
    port) and point the SDK at ``server.base_url``. All public methods are thread-safe.
    """

    def __init__(
        self,
        latency_s: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        models: Sequence[str] = DEFAULT_MODELS,
        free_tier: FreeTier | None = None,
    ) -> None:
        self.latency_s = latency_s
        self.free_tier = free_tier
        self.host = host
        self.models: tuple[str, ...] = tuple(models)
        self._requested_port = port
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[Fault] = []
        self._fixed: list[tuple[str, str]] = []
        self._fail_always: list[tuple[str, int, str | None]] = []
        # One mutable [outcome, finished_at] cell per recorded request, filled in when answered.
        self._outcomes: list[list[Any]] = []
        self._inflight_now: dict[str, int] = {}
        self._inflight_peak: dict[str, int] = {}
        self._inflight_total = 0
        self._inflight_total_peak = 0
        self._counter = 0
        self._httpd: _QuietThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def _bind(self) -> _QuietThreadingHTTPServer:
        if self._httpd is None:
            self._httpd = _QuietThreadingHTTPServer((self.host, self._requested_port), self)
        return self._httpd

    def start(self) -> MockLLMServer:
        """Bind and serve in a daemon thread; returns self so ``start()`` can be chained."""
        if self._thread is not None:
            return self
        httpd = self._bind()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"mock-llm-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (used by ``run_mock_server``)."""
        httpd = self._bind()
        try:
            httpd.serve_forever(poll_interval=0.2)
        finally:
            httpd.server_close()
            self._httpd = None

    def stop(self) -> None:
        """Stop accepting requests and release the socket; safe to call more than once."""
        httpd, thread = self._httpd, self._thread
        self._httpd, self._thread = None, None
        if httpd is None:
            return
        if thread is not None:
            httpd.shutdown()
            thread.join(timeout=5)
        httpd.server_close()

    def __enter__(self) -> MockLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the OS-assigned one when constructed with port 0)."""
        if self._httpd is None:
            raise RuntimeError("MockLLMServer is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """Base URL for ``openai.OpenAI(base_url=...)``, e.g. ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    # --- inspection ----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every parsed chat request so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """Number of chat requests received (including ones answered with a fault)."""
        with self._lock:
            return len(self._requests)

    def requests_for(self, model: str) -> list[RecordedRequest]:
        """Recorded requests whose model equals ``model`` exactly."""
        with self._lock:
            return [r for r in self._requests if r.model == model]

    @property
    def exchanges(self) -> list[Exchange]:
        """Every recorded request with what the server did with it, in arrival order.

        Outcomes: ``"answer"`` (a chat completion with text, sent without a scripted delay),
        ``"slow_answer"``, ``"empty_answer"``, ``"html"``, ``"dropped"``, ``"http_<status>"``,
        ``"rejected"`` (streaming), ``"disconnected"`` (the client hung up before the reply was
        written), ``"error"`` (the mock itself failed) or ``"pending"`` while the request is
        being handled. A reply written to a client that already gave up can still look sent,
        which is why scripted slow answers are kept apart from ``"answer"``; use ``finished_at``
        to tell replies sent before some moment (say, killing the client) from later ones.
        """
        with self._lock:
            return [
                Exchange(request, cell[0], cell[1])
                for request, cell in zip(self._requests, self._outcomes, strict=True)
            ]

    @property
    def outcomes(self) -> list[tuple[RecordedRequest, str]]:
        """``(request, outcome)`` for every recorded request; see ``exchanges``."""
        return [(e.request, e.outcome) for e in self.exchanges]

    def answered_requests(self, model: str | None = None) -> list[RecordedRequest]:
        """Requests that received a usable answer (outcome ``"answer"``), optionally per model."""
        return [
            request
            for request, outcome in self.outcomes
            if outcome == OUTCOME_ANSWER and (model is None or request.model == model)
        ]

    def in_flight(self, model: str | None = None) -> int:
        """Chat requests being handled right now, for one model or (None) in total."""
        with self._lock:
            if model is None:
                return self._inflight_total
            return self._inflight_now.get(model, 0)

    def peak_in_flight(self, model: str | None = None) -> int:
        """Most chat requests handled at once since start (or ``reset``), per model or in total.

        A request counts from the moment its body is parsed until its reply (or dropped
        connection) is done, including ``latency_s`` and any scripted delay.
        """
        with self._lock:
            if model is None:
                return self._inflight_total_peak
            return self._inflight_peak.get(model, 0)

    # --- behaviour control ---------------------------------------------------------------

    def script(self, faults: Iterable[Fault]) -> None:
        """Queue one-shot faults; each is consumed by the next request it applies to."""
        with self._lock:
            self._faults.extend(faults)

    @property
    def pending_faults(self) -> int:
        """Scripted faults not yet consumed (lets tests assert a fault actually fired)."""
        with self._lock:
            return len(self._faults)

    def set_fixed_response(self, substring: str, content: str) -> None:
        """Answer every request whose prompt contains ``substring`` with ``content`` verbatim."""
        with self._lock:
            self._fixed.append((substring, content))

    def fail_always(self, substring: str, status: int, message: str | None = None) -> None:
        """Answer every request whose model contains ``substring`` with HTTP ``status``."""
        with self._lock:
            self._fail_always.append((substring, status, message))

    def reset(self) -> None:
        """Forget recorded requests, scripted faults, persistent behaviours and in-flight peaks."""
        with self._lock:
            self._requests.clear()
            self._outcomes.clear()
            self._faults.clear()
            self._fixed.clear()
            self._fail_always.clear()
            self._inflight_peak = {m: n for m, n in self._inflight_now.items() if n}
            self._inflight_total_peak = self._inflight_total

    # --- request handling ----------------------------------------------------------------

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

    def _handle_chat(self, handler: _Handler) -> None:
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
            handler.wfile.flush()  # the reply leaves only now (see _Handler.wbufsize)
        except (ConnectionError, TimeoutError):
            with self._lock:
                cell[0] = OUTCOME_DISCONNECTED
            raise

    def _answer_chat(
        self,
        handler: _Handler,
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

        prompt = _prompt_text(messages)
        refusal = self.free_tier.check(model) if self.free_tier is not None else None
        if refusal is not None:
            handler._send_json(refusal.status, refusal.body, refusal.headers)
            return f"http_{refusal.status}"
        failure = self._persistent_failure(model)
        if failure is not None:
            status, message = failure
            handler._send_error_json(
                status, message or _DEFAULT_ERROR_MESSAGES.get(status, "Error")
            )
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
                message = fault.message or _DEFAULT_ERROR_MESSAGES.get(fault.status, "Error")
                handler._send_error_json(fault.status, message, headers)
                return f"http_{fault.status}"
            if fault.kind in ("body_error", "choice_error"):
                # Errors after the request was accepted arrive in a 200 body (OpenRouter).
                error = {
                    "code": fault.status,
                    "message": fault.message or _DEFAULT_ERROR_MESSAGES.get(fault.status, "Error"),
                }
                payload = self._completion(model, prompt, "", "error")
                if fault.kind == "body_error":
                    payload = {"error": error}
                else:
                    payload["choices"][0]["error"] = error
                handler._send_json(200, payload)
                return f"body_{fault.status}"
            if fault.kind == "html":
                handler._send_bytes(200, _HTML_BODY.encode(), "text/html; charset=utf-8")
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
        if _JUDGE_MARKER in _last_user_text(messages):
            content = judge_answer(model, prompt)
        else:
            content = generation_answer(model, prompt)
        if isinstance(max_tokens, int) and max_tokens > 0 and _approx_tokens(content) > max_tokens:
            return content[: max_tokens * 4], "length"
        return content, "stop"

    def _completion(
        self, model: str, prompt: str, content: str | None, finish_reason: str
    ) -> dict[str, Any]:
        """Build an OpenAI ``chat.completion`` object with OpenRouter-style ``usage.cost``."""
        prompt_tokens = _approx_tokens(prompt)
        completion_tokens = _approx_tokens(content or "")
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


# What the mock charges per million tokens: nothing for ":free" models, as OpenRouter does, and
# google/gemini-2.5-flash's list prices (as in data/01_raw/evaluation_models.csv) for the rest.
MOCK_USD_PER_MTOK = (0.30, 2.50)


def model_listing(model: str) -> dict[str, Any]:
    """One entry of ``GET /models``, with OpenRouter's pricing (USD per token, as strings)."""
    free = model.endswith(":free")
    prompt_price, completion_price = (0.0, 0.0) if free else MOCK_USD_PER_MTOK
    return {
        "id": model,
        "object": "model",
        "created": 0,
        "owned_by": "mock",
        "context_length": 131072,
        "pricing": {
            "prompt": f"{prompt_price / 1e6:.10f}",
            "completion": f"{completion_price / 1e6:.10f}",
        },
    }


def mock_cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    if model.endswith(":free"):
        return 0.0
    input_price, output_price = MOCK_USD_PER_MTOK
    return (prompt_tokens * input_price + completion_tokens * output_price) / 1e6


def run_mock_server(
    host: str, port: int, latency_s: float, free_tier: FreeTier | None = None
) -> None:
    """Serve until Ctrl-C, printing the base URL and how to point the pipeline at it."""
    server = MockLLMServer(latency_s=latency_s, host=host, port=port, free_tier=free_tier)
    server._bind()
    url = server.base_url
    print(
        f"Mock LLM server listening on {url} - run the pipeline with "
        f"OPENROUTER_BASE_URL={url} OPENROUTER_API_KEY=anything",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def _main(argv: Sequence[str] | None = None) -> None:
    """``python -m daydreaming_dagster.mock_llm_server`` entry point (mirrors the CLI)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    args = parser.parse_args(argv)
    run_mock_server(args.host, args.port, args.latency)


if __name__ == "__main__":
    _main()
