import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from .budget import CostBudget, Prices
from .call_runner import CallOutcome, CallRequest, CallRunner
from .failures import FailureKind, LLMCallError, RetryPolicy
from .response_cache import ResponseCache
from .slots import CallSlots

FREE = Prices(0.0, 0.0)


@dataclass
class FakeClient:
    """Answers with the prompt upper-cased, or raises the error scripted for a model."""

    errors: dict[str, LLMCallError] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def resolved_base_url(self) -> str:
        return "http://fake/v1"

    def generate(self, *, prompt: str, model: str, temperature: float, max_tokens: int, **_):
        self.calls.append(prompt)
        if model in self.errors:
            raise self.errors[model]
        return prompt.upper()


def to_answer(answer: str) -> tuple[str, dict]:
    return answer, {"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": None}


def request(key: str, model: str = "m", prices: Prices = FREE) -> CallRequest:
    prompt = f"prompt {key}"
    digest = hashlib.sha256(prompt.encode()).hexdigest()
    return CallRequest(key, model, prompt, digest, 0.7, 100, prices)


def run_all(runner: CallRunner, requests: list[CallRequest]) -> dict[str, CallOutcome]:
    for r in requests:
        runner.submit(r)
    outcomes: dict[str, CallOutcome] = {}
    deadline = time.monotonic() + 10
    while len(outcomes) < len(requests) and time.monotonic() < deadline:
        for outcome in runner.drain(0.1):
            outcomes[outcome.request.key] = outcome
    runner.close()
    return outcomes


def make_runner(tmp_path: Path, client: FakeClient, **overrides) -> CallRunner:
    options = dict(
        cache=ResponseCache(tmp_path / "cache"),
        slots=CallSlots(tmp_path / "slots", 4, {"m": 2, "bad": 2}),
        policy=RetryPolicy(max_attempts=2, backoff_initial_s=0.0, backoff_max_s=0.0),
        budget=CostBudget(None),
        reuse=True,
        workers=4,
    )
    options.update(overrides)
    return CallRunner(client, to_answer, **options)


def test_answers_are_cached_and_a_second_run_calls_nothing(tmp_path: Path):
    client = FakeClient()
    first = run_all(make_runner(tmp_path, client), [request(str(i)) for i in range(5)])
    assert all(o.ok and o.source == "model" for o in first.values())
    assert len(client.calls) == 5
    second = run_all(make_runner(tmp_path, client), [request(str(i)) for i in range(5)])
    assert all(o.ok and o.source == "cache" for o in second.values())
    assert second["3"].text == "PROMPT 3"
    assert len(client.calls) == 5


def test_force_ignores_the_cache(tmp_path: Path):
    client = FakeClient()
    run_all(make_runner(tmp_path, client), [request("a")])
    again = run_all(make_runner(tmp_path, client, reuse=False), [request("a")])
    assert again["a"].source == "model" and len(client.calls) == 2


def test_a_rejected_key_stops_the_run_without_burning_retries(tmp_path: Path):
    client = FakeClient(errors={"m": LLMCallError(FailureKind.REJECTED_KEY, "HTTP 401")})
    runner = make_runner(tmp_path, client, workers=1)
    outcomes = run_all(runner, [request(str(i)) for i in range(6)])
    assert len(client.calls) == 1
    kinds = sorted(o.error.kind.value for o in outcomes.values())
    assert kinds == ["not_attempted"] * 5 + ["rejected_key"]


def test_an_unknown_model_stops_only_that_model(tmp_path: Path):
    client = FakeClient(errors={"bad": LLMCallError(FailureKind.BAD_REQUEST, "HTTP 404")})
    runner = make_runner(tmp_path, client, workers=1)
    requests = [request(f"b{i}", "bad") for i in range(3)] + [request(f"m{i}") for i in range(3)]
    outcomes = run_all(runner, requests)
    assert [o.ok for k, o in sorted(outcomes.items()) if k.startswith("m")] == [True] * 3
    assert sum(1 for p in client.calls if p.startswith("prompt b")) == 1


def test_the_cost_cap_is_never_passed(tmp_path: Path):
    priced = Prices(1000.0, 1000.0)  # 100 completion tokens worst case -> about $0.1 + prompt
    client = FakeClient()
    budget = CostBudget(max_usd=0.25)
    outcomes = run_all(
        make_runner(tmp_path, client, budget=budget, workers=1),
        [request(str(i), prices=priced) for i in range(10)],
    )
    made = [o for o in outcomes.values() if o.ok]
    refused = [o for o in outcomes.values() if not o.ok]
    assert made and refused
    assert all(o.error.kind is FailureKind.BUDGET for o in refused)
    assert budget.spent <= 0.25
    assert all(o.record["cost_source"] == "prices" for o in made)


def test_a_provider_charging_more_than_the_csv_price_cannot_break_the_cap(tmp_path: Path):
    def overcharged(answer: str) -> tuple[str, dict]:
        return answer, {"prompt_tokens": 10, "completion_tokens": 5, "cost_usd": 0.01}

    client = FakeClient()
    budget = CostBudget(max_usd=0.035)
    runner = CallRunner(
        client,
        overcharged,
        cache=ResponseCache(tmp_path / "cache"),
        slots=CallSlots(tmp_path / "slots", 8, {"m": 8}),
        policy=RetryPolicy(),
        budget=budget,
        reuse=True,
        workers=8,
    )
    outcomes = run_all(runner, [request(str(i)) for i in range(10)])  # CSV says free
    assert budget.spent <= 0.035
    assert sum(o.ok for o in outcomes.values()) >= 1
    assert runner.price_warnings and "update the CSV" in runner.price_warnings[0]


def test_answers_are_stored_by_the_worker_before_they_are_reported(tmp_path: Path):
    stored: dict[str, str] = {}

    def store(outcome: CallOutcome) -> None:
        stored[outcome.request.key] = outcome.text or ""

    runner = make_runner(tmp_path, FakeClient(), store=store)
    runner.submit(request("a"))
    (outcome,) = runner.drain(5)
    assert outcome.ok and stored == {"a": "PROMPT A"}  # written when it was handed back
    runner.close()


def test_an_answer_that_cannot_be_stored_fails_its_partition_and_stays_cached(tmp_path: Path):
    client = FakeClient()

    def disk_full(outcome: CallOutcome) -> None:
        raise OSError(28, "No space left on device")

    (failed,) = run_all(make_runner(tmp_path, client, store=disk_full), [request("a")]).values()
    assert failed.error.kind is FailureKind.NOT_STORED and "No space left" in str(failed.error)
    assert failed.source == "model" and len(client.calls) == 1
    (again,) = run_all(make_runner(tmp_path, client), [request("a")]).values()
    assert again.ok and again.source == "cache" and len(client.calls) == 1


@dataclass
class SlowClient(FakeClient):
    """Takes a while to answer, so identical calls overlap."""

    def generate(self, *, prompt: str, model: str, temperature: float, max_tokens: int, **_):
        time.sleep(0.2)
        return super().generate(
            prompt=prompt, model=model, temperature=temperature, max_tokens=max_tokens
        )


def identical(key: str, model: str = "m") -> CallRequest:
    """A request for partition ``key`` asking exactly what every other one asks."""
    prompt = "the same question"
    digest = hashlib.sha256(prompt.encode()).hexdigest()
    return CallRequest(key, model, prompt, digest, 0.7, 100, FREE)


def test_identical_calls_in_flight_are_paid_for_once(tmp_path: Path):
    client = SlowClient()
    outcomes = run_all(make_runner(tmp_path, client), [identical(str(i)) for i in range(4)])
    assert len(client.calls) == 1
    assert sorted(o.source for o in outcomes.values()) == ["cache", "cache", "cache", "model"]
    assert {o.text for o in outcomes.values()} == {"THE SAME QUESTION"}


def test_when_the_shared_call_fails_the_identical_ones_fail_with_it(tmp_path: Path):
    refused = LLMCallError(FailureKind.BAD_REQUEST, "bad: HTTP 400", status=400)
    client = SlowClient(errors={"bad": refused})
    outcomes = run_all(
        make_runner(tmp_path, client), [identical(str(i), model="bad") for i in range(3)]
    )
    assert len(client.calls) == 1
    assert all(not o.ok for o in outcomes.values())
