from email.utils import formatdate

from .failures import FailureKind, LLMCallError, kind_for_status
from .rate_limits import parse_retry_after


def test_statuses_map_to_kinds_that_decide_retries():
    assert kind_for_status(429) is FailureKind.RATE_LIMITED
    assert kind_for_status(500) is FailureKind.SERVER_ERROR
    assert kind_for_status(503) is FailureKind.SERVER_ERROR
    assert kind_for_status(408) is FailureKind.SERVER_ERROR
    assert kind_for_status(401) is FailureKind.REJECTED_KEY
    assert kind_for_status(403) is FailureKind.REJECTED_KEY
    assert kind_for_status(402) is FailureKind.OUT_OF_CREDIT
    assert kind_for_status(404) is FailureKind.BAD_REQUEST
    assert kind_for_status(400) is FailureKind.BAD_REQUEST


def test_only_transient_failures_are_retryable():
    assert LLMCallError(FailureKind.SERVER_ERROR, "x").retryable
    assert LLMCallError(FailureKind.BAD_BODY, "x").retryable
    assert not LLMCallError(FailureKind.REJECTED_KEY, "x").retryable
    assert not LLMCallError(FailureKind.EMPTY_ANSWER, "x").retryable
    assert not LLMCallError(FailureKind.BAD_REQUEST, "x").retryable


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.5"}) == 0.5
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    now = 1_700_000_000.0
    assert parse_retry_after({"retry-after": formatdate(now + 30, usegmt=True)}, now=now) == 30.0
    assert parse_retry_after({"retry-after": formatdate(now - 30, usegmt=True)}, now=now) == 0.0
