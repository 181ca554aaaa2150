"""PostgreSQL storage and ``--workers``, on a real PostgreSQL server (see postgres_server.py).

The experiment runs as parallel runs queued through Dagster's run coordinator and started by its
run launcher, with every storage of the instance in the database; the seed's single-partition
``dagster asset materialize`` then works against the same database.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import psutil
import psycopg2
import pytest

from daydreaming_dagster.assets.batch_stage import Tally, read_tally
from daydreaming_dagster.assets.core import REGISTRY_LOCK
from daydreaming_dagster.experiment.combinations import concept_sets
from daydreaming_dagster.llm_calls.budget import SharedCostBudget
from daydreaming_dagster.llm_calls.database_limits import (
    Database,
    DatabaseSlotPool,
    DatabaseStateStore,
    held_across_machines,
    lock_class,
)
from daydreaming_dagster.mock_llm_server import MockLLMServer
from daydreaming_dagster.records.combination_registry import read_registry, register_combinations
from daydreaming_dagster.records.postgres_url import with_psycopg2

from .conftest import REPO_ROOT, SEED_CONCEPTS, TEST_API_KEY, make_project
from .postgres_server import postgres_admin_url, postgres_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow  # a real server or browser: see conftest.py

BIN = Path(sys.executable).parent
DEFINITIONS = str(REPO_ROOT / "daydreaming_dagster" / "definitions.py")
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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "OPENROUTER_"))}
    env.update(
        OPENROUTER_BASE_URL=mock_llm.base_url,
        OPENROUTER_API_KEY=TEST_API_KEY,
        DAYDREAMING_POSTGRES_URL=database_url,
        DAGSTER_HOME=str(home),
    )
    return env


def query(database_url: str, sql: str) -> list[tuple]:
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


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
    work and no answered call is made again."""
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
        killed_at = time.monotonic()
        output, _ = first.communicate(timeout=120)
        assert killed >= 1
        assert first.returncode == 1, output[-3000:]
        assert "terminated by signal 9 (SIGKILL)" in output, output[-3000:]

        rerun_at = time.monotonic()  # a request the server reads after this is the re-run's
        again = run_workers(project, env)
    finally:
        slow.stop()
    assert_finished(again, project)

    def call(request) -> str:
        return json.dumps([request.model, request.messages, request.temperature], sort_keys=True)

    # Calls in flight when their process was killed were never received, so the re-run asks
    # them again (a request sent just before the kill may reach the server just after it). An
    # answer the client had well before the kill (3 s) was stored: never asked again, and the
    # re-run asks no call twice.
    exchanges = slow.exchanges
    received = {
        call(e.request)
        for e in exchanges
        if e.outcome == "answer" and e.finished_at is not None and e.finished_at < killed_at - 3
    }
    asked_after = [call(e.request) for e in exchanges if e.request.received_at > rerun_at]
    assert received and asked_after
    assert not received & set(asked_after)
    twice = {k for k, n in Counter(asked_after).items() if n > 1}
    timeline = [(round(rerun_at - killed_at, 2), "re-run started")] + [
        # (received, outcome, finished) in seconds from the kill, for a failure
        (round(e.request.received_at - killed_at, 2), e.outcome,
         round((e.finished_at or 0) - killed_at, 2))
        for e in exchanges if call(e.request) in twice
    ]  # fmt: skip
    assert not twice, timeline


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


def test_call_slots_in_the_database_hold_across_machines(postgres_url):  # noqa: F811
    url = with_psycopg2(postgres_url)
    machine_a, machine_b = Database(url), Database(url)  # two sessions, as on two machines
    pool_a = DatabaseSlotPool(machine_a, "endpoint/model", 2)
    pool_b = DatabaseSlotPool(machine_b, "endpoint/model", 2)
    first, second = pool_a._take(), pool_a._take()
    assert {first, second} == {0, 1}
    assert pool_b._take() is None  # both slots are held by the other machine
    pool_a._give_back(first)
    assert pool_b._take() == first
    assert machine_a.pool("x", 3) is machine_a.pool("x", 3)  # one pool object per process


def advisory_locks_held(database_url: str, pool_name: str) -> int:
    return query(
        database_url,
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
        f"AND classid::int = {lock_class(pool_name)} AND granted",
    )[0][0]


def test_call_slots_never_leak_however_many_one_process_holds(postgres_url):  # noqa: F811
    """A session's advisory locks are re-entrant: trying a slot it already holds would take it
    twice, and the one unlock would leave it held for good. Before the fix, once a process's
    list of its own slots was long, the planner tried the lock before excluding them, so a
    process that had held all 64 kept them after giving them back and others starved."""
    url = with_psycopg2(postgres_url)
    machine_a, machine_b = Database(url), Database(url)
    pool_a = DatabaseSlotPool(machine_a, "endpoint/leak", 64)
    pool_b = DatabaseSlotPool(machine_b, "endpoint/leak", 64)
    taken = [pool_a._take() for _ in range(64)]
    assert sorted(taken) == list(range(64))
    assert pool_a._take() is None and pool_b._take() is None
    for number in taken:
        pool_a._give_back(number)
    assert advisory_locks_held(postgres_url, "endpoint/leak") == 0
    assert sorted(pool_b._take() for _ in range(64)) == list(range(64))


def test_call_slots_in_the_database_under_many_threads_of_two_processes(
    postgres_url,  # noqa: F811
):
    """96 threads in each of two sessions share 16 slots: never more than 16 held at once, every
    thread gets its turn, and none is left held at the end."""
    url = with_psycopg2(postgres_url)
    pools = [DatabaseSlotPool(Database(url), "endpoint/busy", 16) for _ in range(2)]
    held, most, guard = set(), [0], threading.Lock()
    done = []

    def call(pool: DatabaseSlotPool) -> None:
        with pool.hold() as number:
            with guard:
                assert number not in held, f"slot {number} handed out twice"
                held.add(number)
                most[0] = max(most[0], len(held))
            time.sleep(0.01)
            with guard:
                held.discard(number)
        done.append(1)

    threads = [threading.Thread(target=call, args=(pool,)) for pool in pools for _ in range(96)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(done) == 192
    assert most[0] <= 16
    assert advisory_locks_held(postgres_url, "endpoint/busy") == 0


def test_call_limits_survive_a_lost_database_connection(postgres_url):  # noqa: F811
    """A server restart or a network blip ends the sessions: the next take, and the next state
    change, open new connections instead of failing every call left in the run."""
    url = with_psycopg2(postgres_url)
    machine = Database(url)
    pool = DatabaseSlotPool(machine, "endpoint/blip", 2)
    store = DatabaseStateStore(machine, "endpoint/blip-state")
    old = pool._take()
    store.update(lambda state: state.update(n=1))
    query(
        postgres_url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    assert advisory_locks_held(postgres_url, "endpoint/blip") == 0  # released with the session
    assert store.update(lambda state: state.update(n=state["n"] + 1) or state["n"]) == 2
    assert machine.session == 1
    taken = {pool._take(), pool._take()}
    assert taken == {0, 1}  # the old session's slot is free again, in the new one
    pool._give_back(old, session=0)  # an in-flight call of the old session ends
    assert advisory_locks_held(postgres_url, "endpoint/blip") == 2  # the new holder keeps it


def test_pacing_state_in_the_database_is_shared(postgres_url):  # noqa: F811
    url = with_psycopg2(postgres_url)
    one = DatabaseStateStore(Database(url), "endpoint/account")
    other = DatabaseStateStore(Database(url), "endpoint/account")
    assert one.is_empty()
    assert one.update(lambda state: state.setdefault("next", {}).update(m=5.0) or "ok") == "ok"
    assert other.peek() == {"next": {"m": 5.0}}


def test_the_cost_cap_in_the_database_holds_across_machines(postgres_url):  # noqa: F811
    url = with_psycopg2(postgres_url)
    ledger = "cost-cap/one-invocation"  # two sessions, as two worker runs on two machines
    first = SharedCostBudget(DatabaseStateStore(Database(url), ledger), 1.0)
    second = SharedCostBudget(DatabaseStateStore(Database(url), ledger), 1.0)
    assert first.reserve(0.6)
    threading.Timer(0.2, lambda: first.settle(0.6, 0.2)).start()
    assert second.reserve(0.6)  # waited for the other machine's call to settle at its cost
    second.settle(0.6, 0.5)
    assert abs(first.spent - 0.7) < 1e-12
    assert not second.reserve(0.6)  # nothing in flight and 0.7 + 0.6 would pass the cap
    other = SharedCostBudget(DatabaseStateStore(Database(url), "cost-cap/another"), 1.0)
    assert other.reserve(0.6)  # each invocation has a cap of its own


def test_a_run_tally_in_the_database_is_read_once_on_any_machine(
    postgres_url, monkeypatch  # noqa: F811
):
    monkeypatch.setenv("DAYDREAMING_POSTGRES_URL", postgres_url)
    assert read_tally("no-such-run") is None
    tally = Tally(total=5, called=3, reused=1, charged_usd=0.25)
    tally.fail("combo_001_x", "budget", "budget: not attempted")
    tally.write("run-on-machine-b")
    stored = query(postgres_url, "SELECT scope FROM daydreaming_limit_state")
    assert ("run-tally/run-on-machine-b",) in stored
    assert read_tally("run-on-machine-b") == tally  # what the command on machine A reads
    assert read_tally("run-on-machine-b") is None  # read once: the row is gone


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


MACHINE_B_SETUP = """
import sys
from pathlib import Path
from daydreaming_dagster.assets.core import REGISTRY_LOCK
from daydreaming_dagster.experiment.combinations import concept_sets
from daydreaming_dagster.llm_calls.database_limits import held_across_machines
from daydreaming_dagster.records.combination_registry import register_combinations
lock = held_across_machines(sys.argv[2], REGISTRY_LOCK)
_, new = register_combinations(Path(sys.argv[1]), concept_sets(["c", "d"], 2), lock)
print(",".join(entry.combo_id for entry in new))
"""


def test_setups_on_two_machines_never_give_one_new_id_to_two_concept_sets(
    tmp_path, postgres_url  # noqa: F811
):
    registry = tmp_path / "shared" / "combination_registry.csv"  # a data folder both mount
    registry.parent.mkdir()
    (tmp_path / "b_tmp").mkdir()
    url = with_psycopg2(postgres_url)
    with held_across_machines(url, REGISTRY_LOCK):  # machine A is registering
        # Machine B: a process with a temp folder of its own, so the lock file cannot stop it.
        machine_b = subprocess.Popen(
            [sys.executable, "-c", MACHINE_B_SETUP, str(registry), url],
            env={**os.environ, "TMPDIR": str(tmp_path / "b_tmp")},
            stdout=subprocess.PIPE,
            text=True,
        )
        with pytest.raises(subprocess.TimeoutExpired):
            machine_b.wait(3.0)  # it waits for the database's lock
        assert not registry.exists()
        register_combinations(registry, concept_sets(["a", "b"], 2))  # A appends meanwhile
    out, _ = machine_b.communicate(timeout=60)
    assert machine_b.returncode == 0 and out.strip() == "combo_002"
    ids = {entry.combo_id: entry.concept_ids for entry in read_registry(registry)}
    assert ids == {"combo_001": ("a", "b"), "combo_002": ("c", "d")}


def test_100k_partition_keys_added_and_pruned_on_postgres(
    tmp_path, monkeypatch, postgres_url  # noqa: F811
):
    from dagster import DagsterInstance, DynamicPartitionsDefinition

    from daydreaming_dagster.assets.partitions import sync_partitions

    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("DAYDREAMING_POSTGRES_URL", postgres_url)
    keys = [f"combo_{n:06d}_02_problem_solving_google/gemini-2.5-flash" for n in range(100_000)]
    partitions = DynamicPartitionsDefinition(name="many")
    with DagsterInstance.get() as instance:
        assert hasattr(instance.event_log_storage, "delete_dynamic_partitions")  # bulk prune
        assert sync_partitions(instance, partitions, keys) == (100_000, 0)
        assert instance.get_dynamic_partitions("many") == keys
        assert sync_partitions(instance, partitions, keys[::4]) == (0, 75_000)
        assert instance.get_dynamic_partitions("many") == keys[::4]
