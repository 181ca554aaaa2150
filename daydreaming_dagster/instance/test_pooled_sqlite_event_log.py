import sqlite3
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    DagsterInstance,
    StaticPartitionsDefinition,
    asset,
    materialize,
)
from dagster._core.events import DagsterEventType
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from .pooled_sqlite_event_log import PooledSqliteEventLogStorage

PARTITIONS = StaticPartitionsDefinition(["a", "b", "c", "d"])


@asset(partitions_def=PARTITIONS)
def numbers(context: AssetExecutionContext) -> None:
    context.log.info(f"partition {context.partition_key}")


def events_of_real_runs():
    """Every event of four partitioned runs (planned events, materializations, step and run
    events, log lines), as Dagster recorded them."""
    with DagsterInstance.ephemeral() as instance:
        runs = [materialize([numbers], instance=instance, partition_key=k) for k in "abcd"]
        return [
            record.event_log_entry
            for result in runs
            for record in instance.get_records_for_run(result.run_id, limit=10_000).records
        ]


def rows(db: Path, table: str) -> list[tuple]:
    """The table's rows, without the row id and the columns SQLite fills with the wall clock."""
    with sqlite3.connect(db) as conn:
        names = [
            name
            for _, name, _, _, default, _ in conn.execute(f"PRAGMA table_info({table})")
            if name != "id" and "CURRENT_TIMESTAMP" not in str(default).upper()
        ]
        return conn.execute(f"SELECT {', '.join(names)} FROM {table} ORDER BY rowid").fetchall()


def test_stored_rows_are_exactly_dagsters_one_by_one_and_in_batches(tmp_path):
    events = events_of_real_runs()
    kinds = {e.dagster_event_type for e in events if e.is_dagster_event}
    assert {DagsterEventType.ASSET_MATERIALIZATION_PLANNED, DagsterEventType.ASSET_MATERIALIZATION,
            DagsterEventType.STEP_START} <= kinds  # fmt: skip
    for name in ("dagster", "one", "batch"):
        (tmp_path / name).mkdir()
    dagsters = SqliteEventLogStorage(str(tmp_path / "dagster"))
    one_by_one = PooledSqliteEventLogStorage(str(tmp_path / "one"))
    batched = PooledSqliteEventLogStorage(str(tmp_path / "batch"))
    for event in events:
        dagsters.store_event(event)
        one_by_one.store_event(event)
    for start in range(0, len(events), 7):  # batches that mix asset and other events
        batched.store_event_batch(events[start : start + 7])
    for storage in (dagsters, one_by_one, batched):
        storage.dispose()
    databases = sorted(p.name for p in (tmp_path / "dagster").glob("*.db"))
    assert "index.db" in databases and len(databases) == 5
    for db in databases:
        tables = ["event_logs"] + (["asset_keys", "asset_event_tags"] if db == "index.db" else [])
        for table in tables:
            expected = rows(tmp_path / "dagster" / db, table)
            assert expected, (db, table)
            for ours in ("one", "batch"):
                assert rows(tmp_path / ours / db, table) == expected, (ours, db, table)


def schema(db: Path) -> tuple:
    with sqlite3.connect(db) as conn:
        return (
            sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")),
            conn.execute("SELECT version_num FROM alembic_version").fetchall(),
            conn.execute("PRAGMA journal_mode").fetchall(),
        )


def test_a_new_run_database_is_the_one_dagster_creates(tmp_path):
    ours, dagsters = tmp_path / "ours", tmp_path / "dagster"
    ours.mkdir()
    dagsters.mkdir()
    with PooledSqliteEventLogStorage(str(ours)).run_connection("run-1"):
        pass
    with SqliteEventLogStorage(str(dagsters)).run_connection("run-1"):
        pass
    expected = schema(dagsters / "run-1.db")
    assert expected[1] and expected[2] == [("wal",)]
    assert schema(ours / "run-1.db") == expected
