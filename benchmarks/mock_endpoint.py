"""The project's mock LLM server, run inside the benchmark process so every call can be counted.

The server's HTTP listener uses ``socketserver``'s default listen backlog of 5. When a client
opens dozens of connections at once, Linux drops the SYNs that do not fit and the client only
retries about a second later, which would add artificial latency to whichever system opens
connections in bursts. The benchmark therefore widens the backlog (when the server's internals
still look as expected) and records the kernel's listen-overflow counter around every run so any
remaining drops are visible in the results.

The server is also subclassed to count requests in flight: the peak is a direct check of the
concurrency each system reaches, next to the derived "effective concurrency" figure.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

from daydreaming_dagster import mock_llm_server
from daydreaming_dagster.mock_llm_server import MockLLMServer

LISTEN_BACKLOG = 1024
_NETSTAT = Path("/proc/net/netstat")


def widen_listen_backlog() -> bool:
    """Raise the mock's listen backlog; False when the private server class has changed."""
    server_class = getattr(mock_llm_server, "_QuietThreadingHTTPServer", None)
    if server_class is None or not hasattr(server_class, "request_queue_size"):
        return False
    server_class.request_queue_size = LISTEN_BACKLOG
    return True


class GaugedMockServer(MockLLMServer):
    """The project's mock server plus a gauge of chat requests being handled at once."""

    def __init__(self, latency_s: float) -> None:
        super().__init__(latency_s=latency_s)
        self._gauge = threading.Lock()
        self._in_flight = 0
        self.peak_in_flight = 0

    def _handle_chat(self, handler: Any) -> None:
        with self._gauge:
            self._in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
        try:
            super()._handle_chat(handler)
        finally:
            with self._gauge:
                self._in_flight -= 1

    def reset(self) -> None:
        super().reset()
        with self._gauge:
            self.peak_in_flight = self._in_flight


def start_mock(latency_s: float) -> MockLLMServer:
    """A running mock; gauged when the server still handles chats in ``_handle_chat``."""
    if callable(getattr(MockLLMServer, "_handle_chat", None)):
        return GaugedMockServer(latency_s).start()
    return MockLLMServer(latency_s=latency_s).start()


def peak_in_flight(server: MockLLMServer) -> int | None:
    return getattr(server, "peak_in_flight", None)


def listen_overflows() -> int | None:
    """Linux's system-wide count of connections dropped because a listen queue was full."""
    try:
        lines = _NETSTAT.read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(table["ListenOverflows"]) if "ListenOverflows" in table else None
    return None


def request_signatures(server: MockLLMServer) -> Counter[tuple[str, str, object, object]]:
    """What was asked of the models, as a multiset: comparable across systems, order-free."""
    return Counter(
        (request.model, request.prompt, request.temperature, request.max_tokens)
        for request in server.requests
    )
