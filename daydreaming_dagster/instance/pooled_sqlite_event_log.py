"""Dagster's SQLite event log, with connections kept open between writes.

Dagster's own ``SqliteEventLogStorage`` creates a SQLAlchemy engine, opens a connection, commits
with a full fsync and throws the engine away for every single event. A batch run of 750 partitions
writes thousands of events (planned, materialized, logs), and on a small machine that alone took
about 11 ms per event. Keeping a few engines open and letting SQLite's write-ahead log fsync at
checkpoints (``synchronous=NORMAL``) brings it to about 2 ms with the same files, the same schema
and the same per-partition status in the UI. A committed event survives a killed process; only a
power cut can lose the last few commits. Two more savings, same rows: a run's planned events are
written as one batch, and a new run's database is stamped at alembic's head without re-reading
the migration scripts each time.
"""

import os
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from dagster import Field, StringSource
from dagster._core.events import ASSET_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import sqlite as dagster_sqlite_event_log
from dagster._core.storage.event_log.schema import (
    AssetKeyTable,
    SqlEventLogStorageMetadata,
    SqlEventLogStorageTable,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine, get_alembic_config
from dagster._serdes import ConfigurableClassData
from dagster._time import datetime_from_timestamp
from sqlalchemy import bindparam, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

from .bulk_partitions import BulkDynamicPartitionsMixin

# Dagster writes the events it marks as one batch (a run's planned events, one per partition and
# asset) through ``store_event_batch`` only when this variable is set; buffers stay per batch.
EVENT_BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"
EVENT_BATCH_SIZE = "10000"

# Engines for this many shards (the index plus recent runs) stay open; older ones are disposed,
# so a long-lived webserver does not collect one open file per run it ever read.
OPEN_SHARDS = 8


# SQLite caches up to 2 MB of pages per connection by default, and up to three connections per
# open shard stay open: at 12 concepts that was tens of MB per process, for reads that the
# operating system's file cache answers as fast.
PAGE_CACHE_KIB = 256


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
    cursor.close()


_INSERT_EVENT = SqlEventLogStorageTable.insert()
_UPDATE_ASSET_ROW = AssetKeyTable.update().where(
    AssetKeyTable.c.asset_key == bindparam("asset_key_to_update")
)

_script_directory: ScriptDirectory | None = None


def alembic_scripts() -> ScriptDirectory:
    """Dagster's event-log migration scripts, read once per process."""
    global _script_directory
    if _script_directory is None:
        config = get_alembic_config(dagster_sqlite_event_log.sqlite_event_log.__file__)
        _script_directory = ScriptDirectory.from_config(config)
    return _script_directory


def default_base_dir() -> str:
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError(
            "PooledSqliteEventLogStorage needs base_dir in dagster.yaml or DAGSTER_HOME to be set."
        )
    return os.path.join(home, "history", "runs")


class PooledSqliteEventLogStorage(BulkDynamicPartitionsMixin, SqliteEventLogStorage):
    """Same storage as Dagster's SQLite event log; engines are reused instead of rebuilt."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._tables_present: set[str] = set()
        self._asset_key_index_cols: bool | None = None
        # Every process that loads this storage (CLI, run workers, webserver) writes batches.
        os.environ.setdefault(EVENT_BATCH_SIZE_ENV, EVENT_BATCH_SIZE)
        super().__init__(base_dir or default_base_dir(), inst_data)

    @classmethod
    def config_type(cls) -> dict[str, Field]:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> "PooledSqliteEventLogStorage":
        return cls(inst_data=inst_data, **config_value)

    def _engine_for(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=2,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            sqlalchemy_event.listen(engine, "connect", _set_pragmas)
        self._engines[shard] = engine
        while len(self._engines) > OPEN_SHARDS:
            _, oldest = self._engines.popitem(last=False)
            oldest.dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine_for(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _initdb(self, engine: Engine, for_index_shard: bool = False) -> None:
        """A new run's database gets Dagster's tables, stamped at alembic's head.

        Dagster's own version reads alembic's migration scripts (about 90 Python files) twice
        for every new run database, about 80 ms per run; here they are read once per process.
        Existing databases, the index, and any error go through Dagster's code, which also
        migrates and retries when another process is creating the same file.
        """
        if not for_index_shard:
            try:
                with engine.connect() as conn:
                    if not conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar():
                        SqlEventLogStorageMetadata.create_all(conn)
                        MigrationContext.configure(conn).stamp(alembic_scripts(), "head")
                        conn.commit()
                        return
            except (sqlalchemy_exc.DatabaseError, sqlite3.DatabaseError):
                pass
        super()._initdb(engine, for_index_shard)

    def has_table(self, table_name: str) -> bool:
        """Dagster asks this for every asset event; a table, once there, stays there."""
        if table_name in self._tables_present:
            return True
        present = super().has_table(table_name)
        if present:
            self._tables_present.add(table_name)
        return present

    def _has_asset_key_index_cols_on_connection(self, conn: Connection) -> bool:
        """Dagster reflects the asset_keys table's columns for every asset event; the answer only
        changes with a schema migration, which goes through ``upgrade``."""
        if self._asset_key_index_cols is None:
            self._asset_key_index_cols = super()._has_asset_key_index_cols_on_connection(conn)
        return self._asset_key_index_cols

    def _store_asset_event(
        self,
        conn: Connection,
        event: EventLogEntry,
        event_id: int,
        serialized_event: str | None = None,
    ) -> None:
        """The asset's row in the index, as Dagster writes it, with two shortcuts: UPDATE first
        and INSERT only when no row exists (Dagster tries INSERT and catches the IntegrityError
        every later event raises), and a materialization's record is built around the event's
        JSON already made for its event row instead of serialising the event a second time."""
        dagster_event = event.dagster_event
        if not (dagster_event and dagster_event.asset_key):
            return
        if serialized_event is not None and dagster_event.is_step_materialization:
            values = self._materialization_entry_values(conn, event, event_id, serialized_event)
        else:
            values = self._get_asset_entry_values(
                event, event_id, self._has_asset_key_index_cols_on_connection(conn)
            )
        if not values:
            return
        key = dagster_event.asset_key.to_string()
        updated = conn.execute(_UPDATE_ASSET_ROW, {**values, "asset_key_to_update": key})
        if updated.rowcount == 0:
            conn.execute(AssetKeyTable.insert(), {"asset_key": key, **values})

    def _materialization_entry_values(
        self, conn: Connection, event: EventLogEntry, event_id: int, serialized_event: str
    ) -> dict[str, Any]:
        """What ``_get_asset_entry_values`` gives for a materialization (see the test that
        compares stored rows with Dagster's own storage)."""
        values: dict[str, Any] = {
            "last_materialization": (
                '{"__class__": "EventLogRecord", "event_log_entry": '
                f'{serialized_event}, "storage_id": {int(event_id)}}}'
            ),
            "last_run_id": event.run_id,
        }
        if self._has_asset_key_index_cols_on_connection(conn):
            values["last_materialization_timestamp"] = datetime_from_timestamp(event.timestamp)
        return values

    def store_event(self, event: EventLogEntry) -> None:
        """Asset events take the path of a batch of one (see ``store_event_batch``)."""
        if event.is_dagster_event and event.dagster_event_type in ASSET_EVENTS:
            self._store_asset_events([event])
        else:
            super().store_event(event)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        """A batch of asset events in one transaction per database instead of two per event.

        A run over 600 partitions starts with 1,200 planned events; stored one by one they took
        about 1.3 ms each. The rows written, and their order, are exactly those of calling
        ``store_event`` for each event; other kinds of event still go through ``store_event``.
        """
        group: list[EventLogEntry] = []
        for event in events:
            if group and event.run_id != group[0].run_id:
                self._store_asset_events(group)
                group = []
            if event.is_dagster_event and event.dagster_event_type in ASSET_EVENTS:
                group.append(event)
                continue
            if group:
                self._store_asset_events(group)
                group = []
            self.store_event(event)
        if group:
            self._store_asset_events(group)

    def _store_asset_events(self, events: list[EventLogEntry]) -> None:
        """Asset events of one run: their rows in the run's database, then in the index with
        their tags and the assets' rows, one transaction each. Statements are built once and
        take their values as parameters, so SQLAlchemy compiles nothing per event."""
        rows = [self._event_to_row(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            conn.execute(_INSERT_EVENT, rows)
        with self.index_connection() as conn:
            ids = [conn.execute(_INSERT_EVENT, row).inserted_primary_key[0] for row in rows]
            self._store_asset_event_tags(conn, events, ids)
            for event, row, event_id in zip(events, rows, ids, strict=True):
                self._store_asset_event(conn, event, event_id, row["event"])

    def upgrade(self) -> None:
        self._tables_present.clear()
        self._asset_key_index_cols = None
        super().upgrade()

    def _dispose_engines(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()
