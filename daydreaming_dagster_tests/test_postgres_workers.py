"""PostgreSQL storage and ``--workers``, on a real PostgreSQL server (see postgres_server.py).

The experiment runs as parallel runs queued through Dagster's run coordinator and started by its
run launcher, with every storage of the instance in the database; the seed's single-partition
``dagster asset materialize`` then works against the same database.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import psutil
import pytest

from daydreaming_dagster.experiment.call_identity import sha256_text
from daydreaming_dagster.mock_llm_server import MockLLMServer
from daydreaming_dagster.records.data_layout import DataLayout, read_records
from daydreaming_dagster.records.task_status import read_stored

from .conftest import (
    BIN,
    DEFINITIONS,
    SEED_CONCEPTS,
    TEST_API_KEY,
    make_project,
    own_environment,
)
from .postgres_server import postgres_admin_url, postgres_url, query  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow  # a real server or browser: see conftest.py

PACED = "google/gemma-3-27b-it:free"
# Issue 12's held-out check: 3 concepts at k=2 on two workers, 30 generations and 120 scores.
WORKERS_RUN = [
    str(BIN / "daydreaming"), "run", "--k-max", "2", "--concepts", ",".join(SEED_CONCEPTS),
    "--workers", "2",
]  # fmt: skip


def run_workers(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        WORKERS_RUN, cwd=project, env=env, capture_output=True, text=True, timeout=600
    )


def assert_finished(result: subprocess.CompletedProcess, project: Path) -> None:
    """Exit 0 and all 120 scores parsed."""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    parsed = pd.read_csv(project / "data" / "05_parsing" / "parsed_scores.csv")
    assert len(parsed) == 120 and parsed["score"].notna().all()


def command_env(mock_llm, database_url: str, home: Path) -> dict[str, str]:
    env = own_environment()
    env.update(
        OPENROUTER_BASE_URL=mock_llm.base_url,
        OPENROUTER_API_KEY=TEST_API_KEY,
        DAYDREAMING_POSTGRES_URL=database_url,
        DAGSTER_HOME=str(home),
    )
    return env


def overlapping_pairs(spans: list[tuple[float, float]]) -> int:
    return sum(
        1
        for i, (start_a, end_a) in enumerate(spans)
        for start_b, end_b in spans[i + 1 :]
        if start_a < end_b and start_b < end_a
    )


def test_two_workers_on_postgres_then_one_partition_from_the_dagster_cli(
    tmp_path, mock_llm, postgres_url  # noqa: F811
):
    project = make_project(tmp_path / "project")
    home = tmp_path / "own_dagster_home"  # a DAGSTER_HOME of the user's, with no dagster.yaml
    home.mkdir()
    env = command_env(mock_llm, postgres_url, home)
    assert_finished(run_workers(project, env), project)
    answered = [
        json.dumps([r.model, r.messages, r.temperature], sort_keys=True)
        for r in mock_llm.answered_requests()
    ]
    assert len(answered) == 150 and len(set(answered)) == 150  # no answered call repeated

    runs = query(
        postgres_url,
        "SELECT pipeline_name, start_time, end_time FROM runs WHERE status = 'SUCCESS'",
    )
    workers = [(start, end) for name, start, end in runs if name in ("generate", "judge")]
    assert len(workers) == 4  # 2 generation runs + 2 judging runs
    assert overlapping_pairs(workers) >= 1, sorted(workers)
    assert query(postgres_url, "SELECT count(*) FROM event_logs")[0][0] > 0
    assert not [p for p in home.rglob("*") if p.suffix in (".db", ".sqlite")]
    assert (home / "dagster.yaml").exists()  # the project's settings, copied in

    key = "combo_001_02_problem_solving_deepseek/deepseek-r1:free"
    (project / "data" / "03_generation" / "generation_responses").mkdir(exist_ok=True)
    step3 = subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "--select",
         "generation_prompt,generation_response", "--partition", key, "-f", DEFINITIONS],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert step3.returncode == 0, step3.stderr[-3000:]
    assert len(query(postgres_url, "SELECT run_id FROM runs")) == len(runs) + 1
    assert not [p for p in home.rglob("*") if p.suffix in (".db", ".sqlite")]


def test_worker_runs_are_cut_to_size_and_each_lane_runs_one_at_a_time(
    tmp_path, postgres_url  # noqa: F811
):
    project = make_project(tmp_path / "project")
    judges = project / "data" / "01_raw" / "evaluation_models.csv"
    table = pd.read_csv(judges)
    table["max_concurrency"] = 2  # a judging run of 40 calls lasts about 10 s
    table.to_csv(judges, index=False)
    generators = project / "data" / "01_raw" / "generation_models.csv"
    rows = pd.read_csv(generators)
    rows.loc[rows["model"] == PACED, "requests_per_minute"] = 240  # starts 0.25 s apart
    rows.to_csv(generators, index=False)
    home = tmp_path / "home"
    home.mkdir()
    slow = MockLLMServer(latency_s=1.0)  # runs that wait on answers would overlap if they could
    slow.start()
    env = command_env(slow, postgres_url, home)
    env["DAYDREAMING_RUN_PARTITIONS"] = "40"  # 30 generations: 2 runs; 120 evaluations: 3
    try:
        result = run_workers(project, env)
    finally:
        slow.stop()
    assert_finished(result, project)

    runs = query(
        postgres_url,
        "SELECT r.pipeline_name, r.status, r.start_time, r.end_time, t.value FROM runs r "
        "JOIN run_tags t ON t.run_id = r.run_id WHERE t.key = 'daydreaming/lane'",
    )
    assert sorted(name for name, *_ in runs) == ["generate"] * 2 + ["judge"] * 3
    assert {status for _, status, *_ in runs} == {"SUCCESS"}
    lanes: dict[str, list[tuple[float, float]]] = {}
    for _, _, start, end, lane in runs:
        lanes.setdefault(lane, []).append((start, end))
    assert sorted(len(spans) for spans in lanes.values()) == [1, 1, 1, 2]
    assert all(overlapping_pairs(spans) == 0 for spans in lanes.values())  # one at a time

    # The models' limits held over the runs of both lanes (in separate processes), through the
    # database: calls in flight per judge, and the paced generator's request starts.
    for judge in table["model"][table["active"]]:
        assert slow.peak_in_flight(judge) <= 2, judge
    # Starts are spaced 60 / 240 s (5% wider) apart. A request may reach the server late (a
    # run's first one also opens its connection; a busy machine delays a thread), which shortens
    # the gap after it but no window that spans it: any n consecutive gaps last n x 0.24 s, less
    # at most one late arrival (0.35 s). Each process pacing alone interleaves two lanes' starts.
    starts = sorted(r.received_at for r in slow.requests_for(PACED))
    assert len(starts) == 15
    shortfall = max(
        n * 0.24 - (starts[i + n] - starts[i])
        for n in range(1, len(starts))
        for i in range(len(starts) - n)
    )
    gaps = [round(b - a, 3) for a, b in zip(starts, starts[1:], strict=False)]
    assert starts[-1] - starts[0] >= 14 * 0.24 and shortfall <= 0.35, gaps


def test_worker_runs_killed_mid_call_end_the_command_with_how_and_a_rerun_finishes(
    tmp_path, postgres_url  # noqa: F811
):
    """The run processes die (as under the out-of-memory killer) while judging: the command
    ends with exit 1, saying how they ended, instead of waiting; the next run finishes the
    work and no stored answer is asked for again."""
    project = make_project(tmp_path / "project")
    home = tmp_path / "home"
    home.mkdir()
    slow = MockLLMServer(latency_s=1.0)
    slow.start()
    judges = set(pd.read_csv(project / "data" / "01_raw" / "evaluation_models.csv")["model"])
    env = command_env(slow, postgres_url, home)
    try:
        first = subprocess.Popen(
            WORKERS_RUN, cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while (
            time.monotonic() < deadline
            and len([r for r in slow.answered_requests() if r.model in judges]) < 20
        ):  # part-way through judging: some judgements stored, most not
            time.sleep(0.05)
        killed = 0
        for process in psutil.Process(first.pid).children(recursive=True):
            try:
                if "multiprocessing.spawn" in " ".join(process.cmdline()):  # a run's process
                    process.kill()
                    killed += 1
            except psutil.Error:
                pass
        output, _ = first.communicate(timeout=120)
        assert killed >= 1
        assert first.returncode == 1, output[-3000:]
        assert "terminated by signal 9 (SIGKILL)" in output, output[-3000:]

        stored = stored_calls(project)  # what the killed runs had written to disk
        rerun_at = time.monotonic()  # a request the server reads after this is the re-run's
        again = run_workers(project, env)
    finally:
        slow.stop()
    assert_finished(again, project)

    # Calls in flight when their process was killed were never stored, so the re-run asks them
    # again (a request sent just before the kill may reach the server just after it). A stored
    # answer is never asked again, and the re-run asks no call twice.
    exchanges = slow.exchanges
    answered_before = {
        call_of(e.request)
        for e in exchanges
        if e.outcome == "answer" and e.request.received_at < rerun_at
    }
    assert stored and stored <= answered_before  # each stored answer is one the server gave
    asked_again = [call_of(e.request) for e in exchanges if e.request.received_at > rerun_at]
    assert asked_again
    assert not stored & set(asked_again)
    twice = {k for k, n in Counter(asked_again).items() if n > 1}
    assert not twice, [
        # (received, outcome, finished) in seconds from the re-run's start, for a failure
        (round(e.request.received_at - rerun_at, 2), e.outcome,
         round((e.finished_at or 0) - rerun_at, 2))
        for e in exchanges if call_of(e.request) in twice
    ]  # fmt: skip


def call_of(request) -> tuple[str, str, float]:
    """A request's identity as the call records keep it: model, prompt hash, temperature."""
    return request.model, sha256_text(request.messages[-1]["content"]), float(request.temperature)


def stored_calls(project: Path) -> set[tuple[str, str, float]]:
    """The calls whose answers are stored whole: a record and the text its hash names."""
    calls = set()
    layout = DataLayout(project / "data")
    for folder in (layout.generation_responses, layout.evaluation_responses):
        for record in read_records(folder):
            if read_stored(folder, record["task_id"]).answer_sha256 == record["answer_sha256"]:
                calls.add(
                    (record["requested_model"], record["prompt_sha256"], record["temperature"])
                )
    return calls


def test_a_bad_postgres_url_stops_the_command_with_a_message(tmp_path, mock_llm):
    project = make_project(tmp_path / "project")
    env = command_env(mock_llm, "postgresql://nobody:secret@127.0.0.1:1/none", tmp_path / "home")
    result = subprocess.run(
        [str(BIN / "daydreaming"), "run", "--k-max", "2"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "Cannot use the PostgreSQL database" in result.stderr + result.stdout
    assert "secret" not in result.stderr + result.stdout  # the password never reaches output


def test_a_cost_cap_holds_over_worker_runs_through_the_database(
    tmp_path, mock_llm, postgres_url  # noqa: F811
):
    project = make_project(tmp_path / "project")
    home, scratch = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    scratch.mkdir()
    env = {**command_env(mock_llm, postgres_url, home), "TMPDIR": str(scratch)}
    command = [
        str(BIN / "daydreaming"), "run", "--k-max", "2", "--concepts", ",".join(SEED_CONCEPTS),
        "--workers", "2", "--max-cost", "0.02",
    ]  # fmt: skip
    result = subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=600
    )
    # Only gemini-2.5-flash has a price: each call reserves about $0.011 and costs about $0.001.
    assert result.returncode == 3, result.stdout[-3000:] + result.stderr[-3000:]
    assert "budget: not attempted" in result.stdout
    spent = float(result.stdout.split("Spent in this run: $")[1].split()[0])
    assert 0 < spent <= 0.02
    assert 0 < len(mock_llm.requests_for("google/gemini-2.5-flash")) < 24
    # The ledger and the runs' tallies were rows of the database, which every machine sees,
    # not files of this one.
    ledgers = query(
        postgres_url, "SELECT state FROM daydreaming_limit_state WHERE scope LIKE 'cost-cap/%'"
    )
    assert len(ledgers) == 1
    ledger = json.loads(ledgers[0][0])
    assert abs(ledger["spent"] - spent) < 1e-4 and ledger["reserved"] < 1e-12
    tallies_left = query(
        postgres_url, "SELECT scope FROM daydreaming_limit_state WHERE scope LIKE 'run-tally/%'"
    )
    assert tallies_left == []  # each read once by the command
    assert not [p for p in scratch.rglob("*") if p.name == "budget.json" or "tallies" in str(p)]
