"""Retries for transient failures: Retry-After for 429s, jittered exponential backoff otherwise.

Bounded twice over (attempts and total waiting), so a dead provider costs minutes, not hours.
"""

import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from .failures import LLMCallError, RetryPolicy

T = TypeVar("T")


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, LLMCallError) and exc.retryable


class _RetryAfterOrBackoff:
    """The server's Retry-After when it sent one; full-jitter exponential backoff otherwise."""

    def __init__(self, policy: RetryPolicy):
        self._backoff = wait_random_exponential(
            multiplier=policy.backoff_initial_s, max=policy.backoff_max_s
        )

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, LLMCallError) and exc.retry_after_s is not None:
            return exc.retry_after_s
        return self._backoff(state)


class stop_before_waiting_past(stop_base):
    """Stop when the next wait would take the time spent *waiting* past ``limit``.

    Only the waits count, not the attempts: an attempt that hung until its timeout must not use
    up the budget of the retries meant to recover from it."""

    def __init__(self, limit_s: float):
        self.limit_s = limit_s

    def __call__(self, state: RetryCallState) -> bool:
        return state.idle_for + state.upcoming_sleep > self.limit_s


def call_with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[LLMCallError, float], None] | None = None,
) -> tuple[T, int]:
    """``attempt()`` until it succeeds, fails for good, or the policy's bounds are reached.

    Returns the result and how many attempts it took; re-raises the last LLMCallError otherwise.
    A wait that would take the total waiting past ``max_total_wait_s`` is not started.
    """

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if on_retry is not None and isinstance(exc, LLMCallError) and state.next_action:
            on_retry(exc, state.next_action.sleep)

    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts)
        | stop_before_waiting_past(policy.max_total_wait_s),
        wait=_RetryAfterOrBackoff(policy),
        retry=retry_if_exception(_is_retryable),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    result = retrying(attempt)
    return result, retrying.statistics.get("attempt_number", 1)
