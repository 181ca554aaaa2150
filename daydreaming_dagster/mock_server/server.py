"""The mock server itself: start and stop it, see what it received, tell it how to behave."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from .answers import DEFAULT_MODELS
from .chat import ChatAnswering
from .faults import Fault
from .free_tier import FreeTier
from .http import QuietThreadingHTTPServer
from .records import OUTCOME_ANSWER, Exchange, RecordedRequest


class MockLLMServer(ChatAnswering):
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
        self._httpd: QuietThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def _bind(self) -> QuietThreadingHTTPServer:
        if self._httpd is None:
            self._httpd = QuietThreadingHTTPServer((self.host, self._requested_port), self)
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


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m daydreaming_dagster.mock_llm_server`` entry point (mirrors the CLI)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    args = parser.parse_args(argv)
    run_mock_server(args.host, args.port, args.latency)


if __name__ == "__main__":
    main()
