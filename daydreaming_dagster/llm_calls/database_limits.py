"""Call slots and request-pacing state in PostgreSQL, so per-model limits hold across machines.

On one machine the limits live in lock files and a state file (see slots.py, pacing.py). Runs
on several machines share a database instead, the one the Dagster instance uses:

- a call slot is a session-level advisory lock (``pg_try_advisory_lock(pool, slot)``): held
  while the request is open, and released by the server when the holding process dies, so a
  killed worker never leaks a slot;
- the pacing state (next start time, pauses, quotas gone) is one row per endpoint and account,
  changed under ``SELECT ... FOR UPDATE``.

Each process opens its own connections (a forked child opens new ones), shared by its threads.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.errors

from ..records.postgres_url import libpq_dsn

POLL_S = 0.02
PEEK_TTL_S = 0.2  # how long a read of the pacing state is reused before reading it again
TABLE = "daydreaming_limit_state"


def lock_class(name: str) -> int:
    """A stable signed 32-bit id for a pool name (the first key of its advisory locks)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big", signed=True)


class Database:
    """One autocommit connection per process (for the locks) and one for state transactions."""

    def __init__(self, url: str):
        self._dsn = libpq_dsn(url)
        self._pid = -1
        self._locks: Any = None
        self._state: Any = None
        self.mutex = threading.Lock()
        self._pools: dict[str, DatabaseSlotPool] = {}

    def pool(self, name: str, limit: int) -> DatabaseSlotPool:
        """One pool object per name in a process: a session's advisory locks are re-entrant,
        so two objects for the same pool would hand out the same slot twice."""
        with self.mutex:
            if name not in self._pools:
                self._pools[name] = DatabaseSlotPool(self, name, limit)
            return self._pools[name]

    def _ensure(self) -> None:
        if self._pid != os.getpid():  # first use, or a forked child: never share the parent's
            self._locks = psycopg2.connect(self._dsn)
            self._locks.autocommit = True
            self._state = psycopg2.connect(self._dsn)
            self._pid = os.getpid()

    def lock_query(self, sql: str, args: tuple) -> Any:
        with self.mutex:
            self._ensure()
            with self._locks.cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchone()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.mutex:
            self._ensure()
            with self._state, self._state.cursor() as cursor:  # commits, or rolls back on error
                yield cursor


@contextmanager
def held_across_machines(url: str, name: str) -> Iterator[None]:
    """``name`` held exclusively by this process among every process on every machine that uses
    the database: a session-level advisory lock on a connection of its own, which waits while
    another holds it and is released when the connection closes (also when its holder dies)."""
    connection = psycopg2.connect(libpq_dsn(url))
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, 0)", (lock_class(name),))
        yield
    finally:
        connection.close()


_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def database(url: str) -> Database:
    with _databases_lock:
        return _databases.setdefault(url, Database(url))


class DatabaseSlotPool:
    """``limit`` slots of one pool, as advisory locks; same interface as slots.SlotPool."""

    def __init__(self, db: Database, name: str, limit: int):
        if limit < 1:
            raise ValueError(f"A concurrency limit must be at least 1, got {limit}.")
        self.limit = limit
        self._db = db
        self._class = lock_class(name)
        self._local = threading.BoundedSemaphore(limit)
        self._held: set[int] = set()  # locks are re-entrant per session: skip our own
        self._guard = threading.Lock()  # a slot taken is marked held before the next try

    def _take(self) -> int | None:
        with self._guard:
            row = self._db.lock_query(
                "SELECT n FROM generate_series(0, %s) AS n "
                "WHERE NOT (n = ANY(%s)) AND pg_try_advisory_lock(%s, n) LIMIT 1",
                (self.limit - 1, list(self._held) or [-1], self._class),
            )
            if row is None:
                return None
            self._held.add(row[0])
            return row[0]

    def _give_back(self, number: int) -> None:
        with self._guard:
            self._db.lock_query("SELECT pg_advisory_unlock(%s, %s)", (self._class, number))
            self._held.discard(number)

    @contextmanager
    def hold(self) -> Iterator[int]:
        """Block until a slot is free in every process on every machine; yields its number."""
        with self._local:
            number = self._take()
            while number is None:
                time.sleep(POLL_S)
                number = self._take()
            try:
                yield number
            finally:
                self._give_back(number)


class DatabaseStateStore:
    """The pacing state of one endpoint and account, as a JSON row (see pacing.RequestPacer)."""

    def __init__(self, db: Database, scope: str):
        self._db = db
        self._scope = scope
        self._cached: tuple[float, dict] | None = None
        self._created = False

    def _create(self, cursor: Any) -> None:
        if not self._created:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (scope TEXT PRIMARY KEY, state TEXT NOT NULL)"
            )
            cursor.execute(
                f"INSERT INTO {TABLE} (scope, state) VALUES (%s, '{{}}') ON CONFLICT DO NOTHING",
                (self._scope,),
            )

    def _ensure_row(self) -> None:
        if self._created:
            return
        for attempt in range(3):  # two processes creating the table at once: one retries
            try:
                with self._db.transaction() as cursor:
                    self._create(cursor)
                self._created = True
                return
            except psycopg2.IntegrityError:
                if attempt == 2:
                    raise

    def peek(self) -> dict:
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < PEEK_TTL_S:
            return self._cached[1]
        self._ensure_row()
        with self._db.transaction() as cursor:
            cursor.execute(f"SELECT state FROM {TABLE} WHERE scope = %s", (self._scope,))
            row = cursor.fetchone()
        state = json.loads(row[0]) if row else {}
        self._cached = (now, state)
        return state

    def is_empty(self) -> bool:
        return not self.peek()

    def update(self, change: Callable[[dict], object]) -> object:
        self._ensure_row()
        with self._db.transaction() as cursor:
            cursor.execute(f"SELECT state FROM {TABLE} WHERE scope = %s FOR UPDATE", (self._scope,))
            row = cursor.fetchone()
            state = json.loads(row[0]) if row else {}
            result = change(state)
            cursor.execute(
                f"UPDATE {TABLE} SET state = %s WHERE scope = %s",
                (json.dumps(state, sort_keys=True), self._scope),
            )
        self._cached = (time.monotonic(), state)
        return result

    def take(self) -> dict | None:
        """The state, removed in the same statement, so that exactly one reader gets it; None
        when there is none."""
        try:
            with self._db.transaction() as cursor:
                cursor.execute(
                    f"DELETE FROM {TABLE} WHERE scope = %s RETURNING state", (self._scope,)
                )
                row = cursor.fetchone()
        except psycopg2.errors.UndefinedTable:
            return None
        self._cached = None
        state = json.loads(row[0]) if row else None
        return state or None
