"""The project's mock LLM server, run inside the benchmark process so every call can be counted.

The server's HTTP listener uses ``socketserver``'s default listen backlog of 5. When a client
opens dozens of connections at once, Linux drops the SYNs that do not fit and the client only
retries about a second later, which would add artificial latency to whichever system opens
connections in bursts. The benchmark therefore widens the backlog (when the server's internals
still look as expected) and records the kernel's listen-overflow counter around every run so any
remaining drops are visible in the results.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

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


def start_mock(latency_s: float) -> MockLLMServer:
    return MockLLMServer(latency_s=latency_s).start()


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
