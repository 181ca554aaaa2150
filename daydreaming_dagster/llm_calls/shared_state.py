"""State that several processes change together (request pacing, the cost cap's ledger): a JSON
file under a lock file on one machine, or a database row across machines
(llm_calls.database_limits.DatabaseStateStore), behind one small interface."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from filelock import FileLock

from ..records.postgres_url import postgres_url
from .database_limits import DatabaseStateStore, database


class StateStore(Protocol):
    """Where shared state is kept. ``update`` runs ``change`` on the current state under a lock
    that every process holds in turn; callers serialise their own threads."""

    def peek(self) -> dict: ...

    def is_empty(self) -> bool: ...

    def update(self, change: Callable[[dict], object]) -> object: ...

    def take(self) -> dict | None: ...


def shared_state(scope: str, file: Path) -> StateStore:
    """Where state shared by the processes of a run lives: a row of the instance's PostgreSQL
    database (named ``scope``) when there is one, since the runs may then be on several
    machines; else ``file`` on this machine."""
    url = postgres_url()
    return DatabaseStateStore(database(url), scope) if url else FileStateStore(file)


class FileStateStore:
    """The state as a JSON file, changed under a lock file (one machine)."""

    def __init__(self, path: Path):
        self._file = path
        self._lock = FileLock(str(path) + ".lock", thread_local=False)
        self._cached: tuple[float, dict] | None = None

    def _read(self) -> dict:
        try:
            return json.loads(self._file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _write(self, state: dict) -> None:
        self._file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._file.with_name(f".{self._file.name}.tmp")
        tmp.write_text(json.dumps(state, sort_keys=True), encoding="utf-8")
        tmp.replace(self._file)

    def is_empty(self) -> bool:
        return not self._file.exists()

    def peek(self) -> dict:
        """The state without locking, re-read only when the file changed (cheap per call)."""
        try:
            mtime = self._file.stat().st_mtime_ns
        except OSError:
            return {}
        if self._cached is None or self._cached[0] != mtime:
            self._cached = (mtime, self._read())
        return self._cached[1]

    def update(self, change: Callable[[dict], object]) -> object:
        with self._lock:
            state = self._read()
            result = change(state)
            self._write(state)
            return result

    def take(self) -> dict | None:
        """The state, removed with its lock file, so that exactly one reader gets it; None when
        there is none."""
        with self._lock:
            state = self._read()
            self._file.unlink(missing_ok=True)
        Path(self._lock.lock_file).unlink(missing_ok=True)
        self._cached = None
        return state or None
