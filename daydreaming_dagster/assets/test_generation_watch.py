"""A judgement waits for a generation that this command promised to produce, until the
promise is over; otherwise only for one that a live run has planned."""

import pytest
from dagster import AssetKey, DagsterInstance

from .generation_watch import GenerationWatch, promise_generations


@pytest.fixture
def watch():
    with DagsterInstance.ephemeral() as instance:
        yield GenerationWatch(instance, AssetKey("generation_response"))
    promise_generations((), lambda: True)  # no promise leaks into other tests


def test_a_generation_no_run_planned_is_not_in_flight(watch):
    assert not watch.in_flight("combo_001_02_problem_solving_model")


def test_a_promised_generation_is_in_flight_until_the_promise_is_over(watch):
    over = False
    promise_generations(["combo_001_02_problem_solving_model"], lambda: over)
    assert watch.in_flight("combo_001_02_problem_solving_model")
    assert not watch.in_flight("combo_002_02_problem_solving_model")  # not promised
    over = True
    assert not watch.in_flight("combo_001_02_problem_solving_model")
