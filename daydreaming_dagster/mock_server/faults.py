"""Misbehaviour the mock server can be told to show, one request at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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
