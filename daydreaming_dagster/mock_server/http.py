"""The HTTP side of the mock server: routing, keep-alive, and writing replies."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from .answers import model_listing


class Owner(Protocol):
    """What the HTTP side needs of the server that owns it."""

    models: Sequence[str]

    def _handle_chat(self, handler: Handler) -> None: ...


CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
MODELS_PATHS = frozenset({"/v1/models", "/models"})

DEFAULT_ERROR_MESSAGES: dict[int, str] = {
    400: "Bad request",
    401: "Invalid API key",
    403: "Forbidden",
    404: "Model not found",
    429: "Rate limit exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
}
HTML_BODY = (
    "<!DOCTYPE html>\n<html><head><title>Gateway notice</title></head>"
    "<body><h1>Service temporarily unavailable</h1>"
    "<p>This HTML page was returned by the mock LLM server with status 200.</p>"
    "</body></html>\n"
)


class QuietThreadingHTTPServer(ThreadingHTTPServer):
    """HTTP server that knows its owner and stays silent when clients hang up early."""

    daemon_threads = True
    # socketserver's default backlog of 5 makes the kernel drop connection attempts when a client
    # opens many at once; the client then retries about a second later, which would distort
    # latency and concurrency measurements.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: Owner) -> None:
        self.owner = owner
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore disconnects (client timeouts are normal in tests); report anything else."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    """Request handler; all state lives on the owning ``MockLLMServer``.

    HTTP/1.1 with keep-alive, as real providers serve it: a client reuses its connections
    instead of opening one per request (which would make every call cost a TCP handshake and a
    new server thread, and the benchmark measure that instead of the pipeline). Every response
    carries Content-Length; idle connections end with the client or the process (the handler
    threads are daemons).
    """

    server: QuietThreadingHTTPServer
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
        if self._route() in MODELS_PATHS:
            data = [model_listing(m) for m in self.server.owner.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_error_json(404, f"Unknown path: {self.path}")

    def do_POST(self) -> None:
        if self._route() not in CHAT_PATHS:
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
