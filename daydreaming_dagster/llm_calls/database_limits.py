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
        self.session = 0  # counts lost connections: a lock taken in an older session is gone

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

    def _reconnect(self) -> None:
        """After a lost connection (the server restarted, a network blip): new connections on
        next use. The server released this session's advisory locks with it, which the pools
        tell by ``session``; calls in flight may briefly exceed a limit, never lose an answer."""
        if self._pid == os.getpid():
            for connection in (self._locks, self._state):
                try:
                    connection.close()
                except psycopg2.Error:
                    pass
        self._pid = -1
        self.session += 1

    def _with_retry(self, work: Callable[[], Any]) -> Any:
        with self.mutex:
            try:
                self._ensure()
                return work()
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                self._reconnect()
                self._ensure()
                return work()  # once more; a second failure is the caller's

    def lock_query(self, sql: str, args: tuple) -> Any:
        def query() -> Any:
            with self._locks.cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchone()

        return self._with_retry(query)

    def in_transaction(self, work: Callable[[Any], Any]) -> Any:
        """``work(cursor)`` in one transaction: committed, or rolled back on error; tried again
        on a new connection if the connection was lost."""

        def transaction() -> Any:
            with self._state, self._state.cursor() as cursor:
                return work(cursor)

        return self._with_retry(transaction)


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


def _fresh_after_fork() -> None:
    """A forked child holds none of its parent's advisory locks (it opens its own session), so
    it must not inherit the parent's record of held slots, nor a lock a parent thread held."""
    global _databases_lock
    _databases_lock = threading.Lock()
    for db in _databases.values():
        db.mutex = threading.Lock()
        db._pools = {}


os.register_at_fork(after_in_child=_fresh_after_fork)


class DatabaseSlotPool:
    """``limit`` slots of one pool, as advisory locks; same interface as slots.SlotPool.

    A session's advisory locks are re-entrant: trying a slot this process already holds would
    succeed and raise its count, and the one unlock would leave it held until the process ends,
    starving every other process of it. So only the slots this process does not hold are
    offered to the query, and the query has no other condition the planner could put after
    the lock (with ``NOT n = ANY(held) AND pg_try_advisory_lock(...)`` it did, once the held
    list was long enough: a process leaked 63 of 64 slots under 2 s latency)."""

    def __init__(self, db: Database, name: str, limit: int):
        if limit < 1:
            raise ValueError(f"A concurrency limit must be at least 1, got {limit}.")
        self.limit = limit
        self._db = db
        self._class = lock_class(name)
        self._held: dict[int, int] = {}  # slot number -> the database session that took it
        self._guard = threading.Lock()  # a slot taken is marked held before the next try
        self._asking = threading.Lock()  # one thread per pool asks the database while all wait
        self._freed = threading.Event()  # set when this process gives a slot back

    def _take(self) -> int | None:
        with self._guard:
            session = self._db.session
            free_here = [n for n in range(self.limit) if self._held.get(n) != session]
            if not free_here:
                return None
            row = self._db.lock_query(
                "SELECT n FROM unnest(%s::int[]) AS n WHERE pg_try_advisory_lock(%s, n) LIMIT 1",
                (free_here, self._class),
            )
            if row is None:
                return None
            self._held[row[0]] = self._db.session  # the query may have opened a new session
            return row[0]

    def _give_back(self, number: int, session: int | None = None) -> None:
        # Unlocked first, forgotten second: until then no take offers this number again. A
        # lock of a lost session was released by the server already (and the number may have
        # been taken again since, in the new one).
        taken_in = self._held.get(number) if session is None else session
        if taken_in == self._db.session:
            self._db.lock_query("SELECT pg_advisory_unlock(%s, %s)", (self._class, number))
        with self._guard:
            if self._held.get(number) == taken_in:
                del self._held[number]
        self._freed.set()

    @contextmanager
    def hold(self) -> Iterator[int]:
        """Block until a slot is free in every process on every machine; yields its number.
        Waiting threads queue here, not at the database: one of them polls it."""
        with self._asking:
            self._freed.clear()
            number = self._take()  # None at once, without a query, while this process holds all
            while number is None:
                self._freed.wait(POLL_S)  # a slot given back here, or time to ask again
                self._freed.clear()
                number = self._take()
            session = self._held[number]
        try:
            yield number
        finally:
            self._give_back(number, session)


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
                self._db.in_transaction(self._create)
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

        def read(cursor: Any) -> Any:
            cursor.execute(f"SELECT state FROM {TABLE} WHERE scope = %s", (self._scope,))
            return cursor.fetchone()

        row = self._db.in_transaction(read)
        state = json.loads(row[0]) if row else {}
        self._cached = (now, state)
        return state

    def is_empty(self) -> bool:
        return not self.peek()

    def update(self, change: Callable[[dict], object]) -> object:
        self._ensure_row()

        def apply(cursor: Any) -> tuple[dict, object]:
            cursor.execute(f"SELECT state FROM {TABLE} WHERE scope = %s FOR UPDATE", (self._scope,))
            row = cursor.fetchone()
            state = json.loads(row[0]) if row else {}
            result = change(state)
            cursor.execute(
                f"UPDATE {TABLE} SET state = %s WHERE scope = %s",
                (json.dumps(state, sort_keys=True), self._scope),
            )
            return state, result

        state, result = self._db.in_transaction(apply)
        self._cached = (time.monotonic(), state)
        return result

    def take(self) -> dict | None:
        """The state, removed in the same statement, so that exactly one reader gets it; None
        when there is none."""

        def remove(cursor: Any) -> Any:
            cursor.execute(f"DELETE FROM {TABLE} WHERE scope = %s RETURNING state", (self._scope,))
            return cursor.fetchone()

        try:
            row = self._db.in_transaction(remove)
        except psycopg2.errors.UndefinedTable:
            return None
        self._cached = None
        state = json.loads(row[0]) if row else None
        return state or None
