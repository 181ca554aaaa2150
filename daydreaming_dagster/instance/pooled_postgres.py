"""dagster-postgres' run and event-log storage with their connections kept open (private API).

dagster-postgres builds its engines with ``NullPool``: every read and every event written opens
a new connection, and PostgreSQL forks a server process for each. A batch run writes thousands
of events, so the connection set-up, not the inserts, took most of a PostgreSQL run's time. Here
each storage keeps a small pool (same tables, same statements). Pools are never shared with a
forked child: the child's copies are dropped without closing the parent's connections. Stale
partition keys are pruned in bulk, as on SQLite (bulk_partitions).
"""

from __future__ import annotations

import os
import weakref

import dagster_postgres
from dagster._serdes import ConfigurableClassData
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
from dagster_postgres.utils import create_pg_engine
from sqlalchemy.engine import Engine

from .bulk_partitions import BulkDynamicPartitionsMixin

POOL_SIZE = 2  # connections kept open per storage and process
MAX_OVERFLOW = 16  # more, opened for bursts from many threads and closed afterwards
RECYCLE_S = 3600

_engines: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_parent_connections() -> None:
    for engine in list(_engines):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_parent_connections)


def pooled_engine(url: str) -> Engine:
    engine = create_pg_engine(
        url,
        None,
        isolation_level="AUTOCOMMIT",
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_recycle=RECYCLE_S,
        pool_pre_ping=True,  # a connection the server dropped is replaced, not an error
    )
    _engines.add(engine)
    return engine


class _PooledEngine:
    """For a dagster-postgres storage: its NullPool engine replaced by a pooled one."""

    def __init__(self, postgres_url: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(postgres_url, inst_data=inst_data)  # type: ignore[call-arg]
        self._engine = pooled_engine(postgres_url)

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]
        self._engine.dispose()


class PooledPostgresEventLogStorage(
    _PooledEngine, BulkDynamicPartitionsMixin, PostgresEventLogStorage
):
    pass


class PooledPostgresRunStorage(_PooledEngine, PostgresRunStorage):
    pass


# Schedules see little traffic; dagster-postgres' own storage, under the name the choice uses.
PostgresScheduleStorage = dagster_postgres.PostgresScheduleStorage
