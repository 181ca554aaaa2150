"""What went wrong with a model call, and what to do about it: retry, skip, or stop the run."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .rate_limits import RateLimit


class FailureKind(StrEnum):
    """Kinds of failed call; each decides whether retrying can help."""

    RATE_LIMITED = "rate_limited"  # 429: wait (Retry-After, the limit's reset) and retry
    QUOTA_EXHAUSTED = "quota"  # a daily quota is gone: no model under it is called until reset
    SERVER_ERROR = "server_error"  # 5xx and 408: retry with backoff
    TIMEOUT = "timeout"  # no answer in time: retry with backoff
    CONNECTION = "connection"  # dropped or refused connection: retry with backoff
    BAD_BODY = "bad_body"  # HTTP 200 but not chat-completion JSON: retry with backoff
    EMPTY_ANSWER = "empty_answer"  # a valid reply with no text: not stored, not retried
    REJECTED_KEY = "rejected_key"  # 401/403: every further call would fail; stop the run
    OUT_OF_CREDIT = "out_of_credit"  # 402: every further call would fail; stop the run
    BAD_REQUEST = "bad_request"  # other 4xx (unknown model, bad parameters): fail fast
    NOT_CONFIGURED = "not_configured"  # no API key: no call was made; stop the run
    BUDGET = "budget"  # --max-cost would be exceeded: the call was not made
    NOT_ATTEMPTED = "not_attempted"  # the run stopped before this call was made
    NOT_STORED = "not_stored"  # answered, but its partition files could not be written


RETRYABLE = {
    FailureKind.RATE_LIMITED,
    FailureKind.SERVER_ERROR,
    FailureKind.TIMEOUT,
    FailureKind.CONNECTION,
    FailureKind.BAD_BODY,
}
STOPS_THE_RUN = {FailureKind.REJECTED_KEY, FailureKind.OUT_OF_CREDIT, FailureKind.NOT_CONFIGURED}
# An unknown model or a rejected parameter fails every call to that model the same way.
STOPS_THE_MODEL = {FailureKind.BAD_REQUEST}


class LLMCallError(RuntimeError):
    """A call failed or returned something that must not be stored as an answer."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        status: int | None = None,
        retry_after_s: float | None = None,
        rate_limit: RateLimit | None = None,
    ):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after_s = retry_after_s
        self.rate_limit = rate_limit  # what a 429 said about the limit it hit

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


def kind_for_status(status: int) -> FailureKind:
    """HTTP status to failure kind; only the retryable ones are worth another attempt."""
    if status == 429:
        return FailureKind.RATE_LIMITED
    if status == 408 or status >= 500:
        return FailureKind.SERVER_ERROR
    if status in (401, 403):
        return FailureKind.REJECTED_KEY
    if status == 402:
        return FailureKind.OUT_OF_CREDIT
    return FailureKind.BAD_REQUEST


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most ``max_attempts`` calls and ``max_total_wait_s`` of waiting."""

    max_attempts: int = 6
    max_total_wait_s: float = 300.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
