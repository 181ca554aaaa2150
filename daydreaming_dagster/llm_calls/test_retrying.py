import pytest

from .failures import FailureKind, LLMCallError, RetryPolicy
from .retrying import call_with_retries


class Flaky:
    """Fails with the given errors in turn, then answers."""

    def __init__(self, *errors: LLMCallError):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "answer"


def test_transient_errors_are_retried_with_backoff_until_success():
    waits: list[float] = []
    flaky = Flaky(
        LLMCallError(FailureKind.SERVER_ERROR, "500"),
        LLMCallError(FailureKind.CONNECTION, "dropped"),
        LLMCallError(FailureKind.BAD_BODY, "html"),
    )
    policy = RetryPolicy(backoff_initial_s=0.5)
    result, attempts = call_with_retries(flaky, policy, sleep=waits.append)
    assert (result, attempts, flaky.calls) == ("answer", 4, 4)
    assert len(waits) == 3
    assert all(0 <= w <= 60 for w in waits)


def test_retry_after_is_honoured():
    waits: list[float] = []
    flaky = Flaky(LLMCallError(FailureKind.RATE_LIMITED, "429", retry_after_s=7.0))
    call_with_retries(flaky, RetryPolicy(), sleep=waits.append)
    assert waits == [7.0]


def test_permanent_errors_are_not_retried():
    flaky = Flaky(LLMCallError(FailureKind.REJECTED_KEY, "401"))
    with pytest.raises(LLMCallError) as caught:
        call_with_retries(flaky, RetryPolicy(), sleep=lambda s: None)
    assert caught.value.kind is FailureKind.REJECTED_KEY
    assert flaky.calls == 1


def test_attempts_are_bounded():
    flaky = Flaky(*[LLMCallError(FailureKind.SERVER_ERROR, "503") for _ in range(10)])
    with pytest.raises(LLMCallError):
        call_with_retries(flaky, RetryPolicy(max_attempts=3), sleep=lambda s: None)
    assert flaky.calls == 3


def test_a_wait_beyond_the_total_bound_is_not_started():
    waits: list[float] = []
    flaky = Flaky(LLMCallError(FailureKind.RATE_LIMITED, "429", retry_after_s=120.0))
    with pytest.raises(LLMCallError):
        call_with_retries(flaky, RetryPolicy(max_total_wait_s=30.0), sleep=waits.append)
    assert waits == [] and flaky.calls == 1


def test_a_long_timed_out_attempt_does_not_use_up_the_waiting_budget():
    """The budget counts waits only: an attempt that hung for minutes is still retried."""
    import time as clock

    calls = []

    def hangs_then_answers() -> str:
        calls.append(clock.monotonic())
        if len(calls) == 1:
            clock.sleep(0.3)  # stands for a read timeout far longer than the waiting budget
            raise LLMCallError(FailureKind.TIMEOUT, "no answer in time")
        return "answer"

    policy = RetryPolicy(max_total_wait_s=0.2, backoff_initial_s=0.01, backoff_max_s=0.01)
    result, attempts = call_with_retries(hangs_then_answers, policy)
    assert (result, attempts) == ("answer", 2)
