"""What processes on several machines share through PostgreSQL, on a real server (see
postgres_server.py): call slots, request pacing, the cost cap, run tallies, the combination
registry's lock, and 100,000 dynamic partitions added and pruned in bulk."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time

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
from daydreaming_dagster.records.combination_registry import read_registry, register_combinations
from daydreaming_dagster.records.postgres_url import with_psycopg2

from .conftest import REPO_ROOT
from .postgres_server import postgres_admin_url, postgres_url, query  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow  # a real server: see conftest.py


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
