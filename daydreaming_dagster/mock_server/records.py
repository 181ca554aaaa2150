"""What the mock server keeps of each request: the request as received and what it did."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .answers import prompt_text

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
        return prompt_text(self.messages)


@dataclass(frozen=True)
class Exchange:
    """A recorded request and what the server did with it (see ``MockLLMServer.outcomes``).

    ``finished_at`` is ``time.monotonic()`` when the reply was written (or the connection
    dropped); None while the request is still being handled.
    """

    request: RecordedRequest
    outcome: str
    finished_at: float | None
