"""Fault injection: batch runs over the seed selection while the mock server misbehaves.

Each test materializes all 12 generation partitions (and, where it matters, all evaluation
partitions) in one Dagster run on a temporary instance, through the real openai client over HTTP
to the local mock server. Besides what each test is about, every test checks the same promises:

- nothing is lost: every partition is either stored (answer .txt plus call record .json, the
  answer being exactly what the server sent for that model and prompt) or reported as failed with
  a reason, and every call the server answered is stored;
- nothing is half-stored: a failed partition has neither file, no temp file is left, and no
  unusable body (HTML, empty text) reaches any file;
- nothing is paid twice: once a (model, prompt) call got an answer, it is never sent again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, ExecuteInProcessResult

from daydreaming_dagster.definitions import build_definitions
from daydreaming_dagster.llm_calls.failures import FailureKind
from daydreaming_dagster.mock_llm_server import (
    OUTCOME_ANSWER,
    Fault,
    MockLLMServer,
    generation_answer,
    judge_answer,
)
from daydreaming_dagster.orchestration.dagster_runs import (
    materialize_selection,
    partition_range_tags,
)
from daydreaming_dagster.records.data_layout import DataLayout, record_path, text_path
from daydreaming_dagster.resources.experiment_config import ExperimentConfig
from daydreaming_dagster.resources.llm_client import LLMClientResource

from .conftest import INSTANCE_YAML, REPO_ROOT, SEED_CONCEPTS, SEED_TEMPLATES
from .pipeline_runner import failure_text, materializations_of, run_setup

GENERATION = ["generation_prompt", "generation_response"]
EVALUATION = ["evaluation_prompt", "evaluation_response"]
DEEPSEEK = "deepseek/deepseek-r1:free"
GEMMA = "google/gemma-3-27b-it:free"
MAX_ATTEMPTS = 3
FAILURE_KINDS = {kind.value for kind in FailureKind}
# Fast retries so a test spends milliseconds, not seconds, backing off.
FAST_LLM = {
    "timeout_s": 2.0,
    "max_attempts": MAX_ATTEMPTS,
    "max_total_wait_s": 10.0,
    "backoff_initial_s": 0.01,
    "backoff_max_s": 0.05,
}


@dataclass(frozen=True)
class Call:
    """What one partition asks of which model."""

    key: str
    model: str
    prompt: str

    def fault(self, kind: str, **fields) -> Fault:
        """A one-shot fault that fires for this call only."""
        return Fault(kind=kind, model=self.model, match=self.prompt, **fields)  # type: ignore


@dataclass(frozen=True)
class StageInfo:
    selection: list[str]
    partitions: str
    tasks_file: str
    id_column: str
    model_column: str


STAGES = {
    "generation": StageInfo(
        GENERATION, "generation_tasks", "generation_tasks.csv", "generation_task_id",
        "generation_model",
    ),
    "evaluation": StageInfo(
        EVALUATION, "evaluation_tasks", "evaluation_tasks.csv", "evaluation_task_id",
        "evaluation_model",
    ),
}  # fmt: skip


class Seed:
    """The seed selection (k_max=2, 3 concepts, 2 templates: 12 generations) on a temp instance."""

    def __init__(
        self, data_root: Path, instance: DagsterInstance, mock: MockLLMServer, tmp_path: Path
    ):
        self.data_root = data_root
        self.instance = instance
        self.mock = mock
        self.tmp_path = tmp_path
        self.layout = DataLayout(data_root)

    def defs(self, **llm_settings):
        settings = {**FAST_LLM, "slots_dir": str(self.tmp_path / "slots"), **llm_settings}
        config = ExperimentConfig(
            k_max=2, concept_ids_filter=SEED_CONCEPTS, template_names_filter=SEED_TEMPLATES
        )
        return build_definitions(
            data_root=str(self.data_root),
            experiment_config=config,
            llm=LLMClientResource(**settings),
        )

    def keys(self, stage: str) -> list[str]:
        return list(self.instance.get_dynamic_partitions(STAGES[stage].partitions))

    def run(
        self, stage: str, selection: list[str] | None = None, **llm_settings
    ) -> ExecuteInProcessResult:
        """One batch run over every partition of the stage (what ``daydreaming run`` does)."""
        defs = self.defs(**llm_settings)
        keys = self.keys(stage)
        return materialize_selection(
            defs,
            self.instance,
            selection or STAGES[stage].selection,
            tags=partition_range_tags(keys[0], keys[-1]),
        )

    def write_prompts(self, stage: str) -> dict[str, Call]:
        """Render the stage's prompts without calling a model, so faults can target calls."""
        prompt_asset = STAGES[stage].selection[0]
        result = self.run(stage, selection=[prompt_asset])
        assert result.success, failure_text(result)
        return self.calls(stage)

    def folders(self, stage: str) -> tuple[Path, Path]:
        if stage == "generation":
            return self.layout.generation_prompts, self.layout.generation_responses
        return self.layout.evaluation_prompts, self.layout.evaluation_responses

    def calls(self, stage: str) -> dict[str, Call]:
        info = STAGES[stage]
        tasks = pd.read_csv(self.layout.tasks / info.tasks_file)
        prompts, _ = self.folders(stage)
        calls = {}
        for _, row in tasks.iterrows():
            key = str(row[info.id_column])
            prompt_file = text_path(prompts, key)
            prompt = prompt_file.read_text(encoding="utf-8") if prompt_file.exists() else ""
            calls[key] = Call(key, str(row[info.model_column]), prompt)
        assert list(calls) and sorted(calls) == sorted(self.keys(stage))
        return calls

    def stored(self, stage: str, key: str) -> bool:
        _, responses = self.folders(stage)
        return text_path(responses, key).exists() and record_path(responses, key).exists()


def open_instance(home: Path) -> DagsterInstance:
    """A temp instance with the project's storage settings (as conftest's ``instance``)."""
    (home / "dagster.yaml").write_text(INSTANCE_YAML.format(home=home), encoding="utf-8")
    return DagsterInstance.from_config(str(home))


@pytest.fixture(scope="module")
def seeded_template(tmp_path_factory) -> Path:
    """Setup assets and generation prompts done once; each test starts from a copy of this.

    Copying the data folder and the (closed) instance folder takes a fraction of the second
    that running setup again would, which keeps this file's run time reasonable.
    """
    root = tmp_path_factory.mktemp("seeded")
    shutil.copytree(REPO_ROOT / "data" / "01_raw", root / "data" / "01_raw")
    (root / "dagster_home").mkdir()
    with open_instance(root / "dagster_home") as instance:
        template = Seed(root / "data", instance, MockLLMServer(), root)  # server unused
        setup = run_setup(template.defs(), instance)
        assert setup.success, failure_text(setup)
        assert len(template.keys("generation")) == 12
        template.write_prompts("generation")
    return root


@pytest.fixture
def seed(seeded_template, llm_env, tmp_path) -> Iterator[Seed]:
    shutil.copytree(seeded_template / "data", tmp_path / "data")
    shutil.copytree(seeded_template / "dagster_home", tmp_path / "dagster_home")
    with open_instance(tmp_path / "dagster_home") as instance:
        yield Seed(tmp_path / "data", instance, llm_env, tmp_path)


# --- the promises every test checks ---------------------------------------------------------


def reported_failures(result: ExecuteInProcessResult) -> dict[str, str]:
    """partition -> "kind: message", from the batch step's Failure metadata."""
    failures: dict[str, str] = {}
    for event in result.all_events:
        if not event.is_step_failure:
            continue
        data = event.event_specific_data.user_failure_data
        assert data is not None and "failures" in data.metadata, failure_text(result)
        failures.update(data.metadata["failures"].value)
        assert data.metadata["failed"].value == len(data.metadata["failures"].value)
        table = data.metadata["failed_partitions"].value
        assert all(key in table for key in data.metadata["failures"].value)
    return failures


def expected_answer(call: Call) -> str:
    """What the mock answers this call (its answers are deterministic)."""
    if "SCORE:" in call.prompt:
        return judge_answer(call.model, call.prompt)
    return generation_answer(call.model, call.prompt)


def requests_per_call(mock: MockLLMServer) -> dict[tuple[str, str], list[str]]:
    """(model, prompt) -> the outcomes of its requests, in arrival order."""
    per_call: dict[tuple[str, str], list[str]] = defaultdict(list)
    for request, outcome in mock.outcomes:
        per_call[(request.model, request.prompt)].append(outcome)
    return per_call


def assert_no_answered_call_repeated(mock: MockLLMServer) -> None:
    for (model, _prompt), outcomes in requests_per_call(mock).items():
        if OUTCOME_ANSWER in outcomes:
            assert (
                outcomes.index(OUTCOME_ANSWER) == len(outcomes) - 1
            ), f"a {model} call was sent again after it had been answered: {outcomes}"


def assert_no_leftovers(data_root: Path) -> None:
    files = [p for p in data_root.rglob("*") if p.is_file()]
    assert [p for p in files if p.name.endswith(".tmp")] == []
    for path in files:
        text = path.read_bytes()
        assert b"<!DOCTYPE" not in text and b"Gateway notice" not in text, path


def assert_sound(
    seed: Seed,
    stage: str,
    result: ExecuteInProcessResult,
    failed: Iterable[str] = (),
    fresh: bool = True,
) -> dict[str, str]:
    """The stage's files, events and failure report agree with what the server did.

    ``failed``: the partitions that must be reported failed (all others must be stored).
    ``fresh``: nothing was stored before this run, so every stored partition was materialized
    by it. Returns the reported failures.
    """
    failed = set(failed)
    failures = reported_failures(result)
    assert set(failures) == failed, failures
    assert result.success == (not failed)
    for reason in failures.values():  # "kind: message"
        kind, _, message = reason.partition(": ")
        assert kind in FAILURE_KINDS and len(message) > 10, reason

    calls = seed.calls(stage)
    _, responses = seed.folders(stage)
    for key, call in calls.items():
        if key in failed:
            assert not text_path(responses, key).exists(), key
            assert not record_path(responses, key).exists(), key
            continue
        answer = text_path(responses, key).read_text(encoding="utf-8")
        record = json.loads(record_path(responses, key).read_text(encoding="utf-8"))
        assert answer == expected_answer(call), key
        assert record["requested_model"] == call.model
        assert record["prompt_sha256"] == sha256(call.prompt)
        assert record["finish_reason"] == "stop" and record["completion_tokens"] > 0

    # Every answer the server sent for this stage is stored under its partition.
    by_call = {(c.model, c.prompt): c.key for c in calls.values()}
    for request in seed.mock.answered_requests():
        key = by_call.get((request.model, request.prompt))
        if key is not None:
            assert key not in failed and seed.stored(stage, key), key

    if fresh:
        response_asset = STAGES[stage].selection[1]
        materialized = [m.partition for m in materializations_of(result, response_asset)]
        assert sorted(materialized) == sorted(set(calls) - failed)

    assert_no_answered_call_repeated(seed.mock)
    assert_no_leftovers(seed.data_root)
    assert cached_calls(seed.layout) == {
        (r.model, sha256(r.prompt)) for r in seed.mock.answered_requests()
    }
    return failures


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached_calls(layout: DataLayout) -> set[tuple[str, str]]:
    """(model, prompt sha256) of every answer in the response cache: only real answers."""
    calls = set()
    for path in layout.response_cache.rglob("*.json"):
        entry = json.loads(path.read_text(encoding="utf-8"))
        assert entry["text"].strip() and "<!DOCTYPE" not in entry["text"], path
        calls.add((entry["record"]["requested_model"], entry["record"]["prompt_sha256"]))
    return calls


def outcomes_of(seed: Seed, call: Call) -> list[str]:
    return requests_per_call(seed.mock).get((call.model, call.prompt), [])


# --- retried faults: the run succeeds --------------------------------------------------------


def test_429_waits_for_retry_after_and_others_keep_going(seed):
    calls = seed.calls("generation")
    target = calls[seed.keys("generation")[0]]
    seed.mock.script([target.fault("status", status=429, retry_after=2)])

    result = seed.run("generation")

    assert_sound(seed, "generation", result)
    assert outcomes_of(seed, target) == ["http_429", OUTCOME_ANSWER]
    first, retry = [
        r for r in seed.mock.requests if (r.model, r.prompt) == (target.model, target.prompt)
    ]
    assert retry.received_at - first.received_at >= 2.0
    # The rate-limited call waited on its own: the other model's calls were all answered
    # meanwhile. A Retry-After is a per-minute pause for its model, so a call of that model that
    # had not started when the refusal arrived waits with it (on a loaded machine some do).
    others = [r for r in seed.mock.requests if r is not first and r is not retry]
    assert len(others) == 11
    other_model = [r for r in others if r.model != target.model]
    assert other_model and all(r.received_at < retry.received_at for r in other_model), spans(
        first, retry, others
    )
    metadata = {m.partition: m.metadata for m in materializations_of(result, "generation_response")}
    assert metadata[target.key]["attempts"].value == 2
    assert seed.mock.request_count == 13


def spans(first, retry, others) -> str:
    """When each request arrived, in seconds after the refused one (for a failing assertion)."""
    times = sorted((round(r.received_at - first.received_at, 2), r.model) for r in others)
    return f"retry at +{retry.received_at - first.received_at:.2f} s; others: {times}"


def test_500_and_503_are_retried(seed):
    calls = list(seed.calls("generation").values())
    seed.mock.script(
        [
            calls[0].fault("status", status=500),
            calls[1].fault("status", status=503),
            calls[2].fault("status", status=503),
            calls[2].fault("status", status=500),  # fails twice, third attempt succeeds
        ]
    )

    result = seed.run("generation")

    assert_sound(seed, "generation", result)
    assert outcomes_of(seed, calls[0]) == ["http_500", OUTCOME_ANSWER]
    assert outcomes_of(seed, calls[1]) == ["http_503", OUTCOME_ANSWER]
    assert outcomes_of(seed, calls[2]) == ["http_503", "http_500", OUTCOME_ANSWER]
    assert seed.mock.request_count == 12 + 4
    assert seed.mock.pending_faults == 0


def test_html_body_with_status_200_is_retried_and_never_stored(seed):
    calls = list(seed.calls("generation").values())
    seed.mock.script([calls[0].fault("html"), calls[0].fault("html"), calls[5].fault("html")])

    result = seed.run("generation")

    assert_sound(seed, "generation", result)  # includes: no HTML in any file under data/
    assert outcomes_of(seed, calls[0]) == ["html", "html", OUTCOME_ANSWER]
    assert outcomes_of(seed, calls[5]) == ["html", OUTCOME_ANSWER]
    assert seed.mock.request_count == 12 + 3


def test_dropped_connection_is_retried(seed):
    calls = list(seed.calls("generation").values())
    seed.mock.script([calls[3].fault("drop"), calls[7].fault("drop")])

    result = seed.run("generation")

    assert_sound(seed, "generation", result)
    assert outcomes_of(seed, calls[3]) == ["dropped", OUTCOME_ANSWER]
    assert outcomes_of(seed, calls[7]) == ["dropped", OUTCOME_ANSWER]
    assert seed.mock.request_count == 12 + 2


def test_slow_answers_time_out_and_are_retried_or_fail_per_policy(seed):
    calls = list(seed.calls("generation").values())
    once, always = calls[0], calls[1]
    seed.mock.script(
        [once.fault("slow", seconds=1.2)]
        + [always.fault("slow", seconds=1.2) for _ in range(MAX_ATTEMPTS)]
    )

    result = seed.run("generation", timeout_s=0.4)

    failures = assert_sound(seed, "generation", result, failed={always.key})
    assert failures[always.key].startswith("timeout:")
    assert "0.4 s" in failures[always.key]
    # One timeout, then a normal answer; the late reply to the timed-out request is not used.
    assert outcomes_of(seed, once)[1:] == [OUTCOME_ANSWER]
    assert len(outcomes_of(seed, always)) == MAX_ATTEMPTS  # bounded, then reported
    assert OUTCOME_ANSWER not in outcomes_of(seed, always)
    assert seed.mock.request_count == 12 + 1 + (MAX_ATTEMPTS - 1)


# --- unusable answers and permanent errors: those partitions fail, the others are stored ------


def test_empty_answer_fails_that_partition_only(seed):
    calls = list(seed.calls("generation").values())
    seed.mock.script([calls[2].fault("empty"), calls[9].fault("null_content")])

    result = seed.run("generation")

    failures = assert_sound(seed, "generation", result, failed={calls[2].key, calls[9].key})
    for call in (calls[2], calls[9]):
        assert failures[call.key].startswith("empty_answer:")
        assert outcomes_of(seed, call) == ["empty_answer"]  # not retried
    assert seed.mock.request_count == 12
    assert "2 of 12 generation partitions failed" in failure_text(result)


def test_persistent_500_on_one_model_is_bounded_and_reported(seed):
    calls = seed.calls("generation")
    gemma = {key for key, call in calls.items() if call.model == GEMMA}
    assert len(gemma) == 6
    seed.mock.fail_always("gemma", 500, "upstream exploded")

    result = seed.run("generation")

    failures = assert_sound(seed, "generation", result, failed=gemma)
    for key in gemma:
        assert outcomes_of(seed, calls[key]) == ["http_500"] * MAX_ATTEMPTS
        assert failures[key].startswith("server_error:")
        assert "HTTP 500" in failures[key] and "upstream exploded" in failures[key]
    assert len(seed.mock.requests_for(GEMMA)) == 6 * MAX_ATTEMPTS
    assert len(seed.mock.requests_for(DEEPSEEK)) == 6
    text = failure_text(result)
    assert "6 of 12 generation partitions failed" in text
    assert "HTTP 500" in text and any(key in text for key in gemma)


def test_401_stops_the_run_early_and_reports_every_partition(seed):
    seed.calls("generation")
    seed.mock.fail_always("", 401)  # every model: the key is rejected

    # One call per model at a time: after the first 401 no further call may start.
    result = seed.run("generation", max_concurrent_per_model=1)

    failures = assert_sound(seed, "generation", result, failed=seed.keys("generation"))
    assert 1 <= seed.mock.request_count <= 2  # at most the calls already in flight
    assert all(len(o) == 1 for o in requests_per_call(seed.mock).values())  # no retries
    kinds = Counter(reason.split(":", 1)[0] for reason in failures.values())
    assert kinds["rejected_key"] == seed.mock.request_count
    assert kinds["not_attempted"] == 12 - seed.mock.request_count
    assert all("401" in reason for reason in failures.values())
    assert "The run stopped early" in failure_text(result)


def test_404_unknown_model_fails_fast_for_that_model_only(seed):
    calls = seed.calls("generation")
    gemma = {key for key, call in calls.items() if call.model == GEMMA}
    seed.mock.fail_always("gemma", 404, "No endpoints found for this model")

    result = seed.run("generation")

    failures = assert_sound(seed, "generation", result, failed=gemma)
    for key in gemma:
        assert outcomes_of(seed, calls[key]) in ([], ["http_404"])  # never retried
        assert failures[key].startswith(("bad_request:", "not_attempted:"))
        assert "404" in failures[key]
    assert 1 <= len(seed.mock.requests_for(GEMMA)) <= 6
    assert len(seed.mock.requests_for(DEEPSEEK)) == 6


def test_404_stops_calls_waiting_for_the_models_slot(seed):
    seed.calls("generation")
    seed.mock.latency_s = 0.01
    # The first gemma call gets its 404 slowly, so the next gemma call is already waiting for
    # the model's only slot when the model is found to be unknown.
    seed.mock.script(
        [Fault(kind="status", status=404, seconds=0.5, model=GEMMA)]
        + [Fault(kind="status", status=404, model=GEMMA) for _ in range(5)]
    )

    result = seed.run("generation", max_concurrent_per_model=1)

    gemma = {key for key, call in seed.calls("generation").items() if call.model == GEMMA}
    assert_sound(seed, "generation", result, failed=gemma)
    assert len(seed.mock.requests_for(DEEPSEEK)) == 6
    # The model was known to be unknown before any other call to it was sent.
    assert len(seed.mock.requests_for(GEMMA)) == 1


# --- re-runs ------------------------------------------------------------------------------------


def test_rerun_calls_only_the_failed_partitions_and_force_calls_everything(seed):
    calls = list(seed.calls("generation").values())
    failed = {calls[1].key, calls[4].key, calls[10].key}
    seed.mock.script([calls[1].fault("empty"), calls[4].fault("empty")])
    seed.mock.script([calls[10].fault("status", status=500) for _ in range(MAX_ATTEMPTS)])

    first = seed.run("generation")
    assert_sound(seed, "generation", first, failed=failed)
    assert seed.mock.request_count == 12 + MAX_ATTEMPTS - 1

    second = seed.run("generation")
    assert_sound(seed, "generation", second, fresh=False)
    assert seed.mock.request_count == 12 + MAX_ATTEMPTS - 1 + len(failed)
    assert sorted(m.partition for m in materializations_of(second, "generation_response")) == (
        sorted(failed)
    )

    third = seed.run("generation")
    assert_sound(seed, "generation", third, fresh=False)
    assert seed.mock.request_count == 12 + MAX_ATTEMPTS - 1 + len(failed)  # nothing left to do

    forced = seed.run("generation", reuse_stored_responses=False)
    assert forced.success
    assert seed.mock.request_count == 12 + MAX_ATTEMPTS - 1 + len(failed) + 12
    answered = Counter((r.model, r.prompt) for r in seed.mock.answered_requests())
    assert sorted(answered.values()) == [2] * 12  # once before, once forced
    assert len(materializations_of(forced, "generation_response")) == 12
    for call in calls:
        assert text_path(seed.layout.generation_responses, call.key).read_text() == (
            expected_answer(call)
        )
    assert_no_leftovers(seed.data_root)


def test_evaluation_batch_with_faults(seed):
    assert seed.run("generation").success
    calls = list(seed.write_prompts("evaluation").values())
    assert len(calls) == 48
    seed.mock.script(
        [
            calls[0].fault("status", status=429, retry_after=0.1),
            calls[1].fault("status", status=502),
            calls[2].fault("drop"),
            calls[3].fault("html"),
            calls[4].fault("empty"),
        ]
    )

    result = seed.run("evaluation")

    failures = assert_sound(seed, "evaluation", result, failed={calls[4].key})
    assert failures[calls[4].key].startswith("empty_answer:")
    for call, fault in zip(calls[:4], ["http_429", "http_502", "dropped", "html"], strict=True):
        assert outcomes_of(seed, call) == [fault, OUTCOME_ANSWER]
    assert seed.mock.request_count == 12 + 48 + 4
    assert "1 of 48 evaluation partitions failed" in failure_text(result)


# --- concurrency ----------------------------------------------------------------------------


def test_per_model_limit_holds_at_the_server(seed):
    seed.calls("generation")
    seed.mock.latency_s = 0.1

    result = seed.run("generation", max_concurrent_per_model=2)

    assert_sound(seed, "generation", result)
    for model in (DEEPSEEK, GEMMA):
        assert seed.mock.peak_in_flight(model) == 2
    assert seed.mock.in_flight() == 0


def test_calls_run_concurrently_by_default(seed):
    seed.calls("generation")
    seed.mock.latency_s = 0.2

    result = seed.run("generation")

    assert_sound(seed, "generation", result)
    # Sequential calls would never overlap; 12 calls of 0.2 s each overlap heavily.
    assert seed.mock.peak_in_flight() >= 2
    for model in (DEEPSEEK, GEMMA):
        assert seed.mock.peak_in_flight(model) >= 2
