"""A new instance's SQLite files, created in a forked process while the preflight runs.

Creating a fresh SQLite instance (tables, indexes, alembic stamps) takes about 0.3 s of CPU,
and start-up otherwise keeps one core busy and the other idle: imports, then the preflight
(importing ``openai`` and asking the endpoint for its models), then the instance. A child forked
before the preflight creates the files meanwhile, and the run opens the finished database in
0.05 s. Nothing is shared: the child is forked before any thread starts or any database
connection opens, and it ends with ``os._exit`` without touching anything else.

Only for a SQLite instance whose files do not exist yet, where ``fork`` exists; otherwise the
run creates or opens its instance as before. If the child fails, the files it began are removed
and the run creates them itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..records.postgres_url import PostgresUrlError, postgres_url
from .dagster_runs import open_instance, use_project_instance
from .process_names import INSTANCE_CREATION, name_this_process

# What Dagster creates in a new SQLite instance (runs, the event log's index, schedules).
INSTANCE_FILES = ("history/runs.db", "history/runs/index.db", "schedules/schedules.db")
WAIT_S = 60.0  # the creation takes well under a second; a child stuck longer is ended


def _new_sqlite_home(dagster_home: str) -> Path | None:
    """The instance folder, when it is SQLite and none of its database files exist yet."""
    try:
        if postgres_url():
            return None
    except PostgresUrlError:
        return None  # the run says what is wrong with the URL
    home = use_project_instance(dagster_home)
    if any((home / name).exists() for name in INSTANCE_FILES):
        return None
    return home


def _create_and_exit() -> None:
    """Body of the child: create the instance's files, then leave without Python's teardown."""
    code = 1
    try:
        name_this_process(INSTANCE_CREATION)
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it; the parent reports
        with open_instance():
            code = 0
    finally:
        os._exit(code)


def _wait(pid: int, home: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
            break
        time.sleep(0.005)
    if os.waitstatus_to_exitcode(status) != 0:
        for name in INSTANCE_FILES:  # half-made files would look like a broken instance
            for suffix in ("", "-wal", "-shm", "-journal"):  # with SQLite's companion files
                with contextlib.suppress(FileNotFoundError):
                    (home / (name + suffix)).unlink()


@contextlib.contextmanager
def instance_created_alongside(dagster_home: str) -> Iterator[None]:
    """Create a new instance's files in a forked child during the ``with`` block; when the block
    ends, the child is done (successfully or with its files removed)."""
    home = None
    if hasattr(os, "fork") and threading.active_count() == 1:
        home = _new_sqlite_home(dagster_home)
    pid = 0
    if home is not None:
        # Imported here, before the fork, so that both processes have them loaded once.
        from ..instance import storage_choice  # noqa: F401

        pid = os.fork()
        if pid == 0:
            _create_and_exit()
    try:
        yield
    finally:
        if pid:
            _wait(pid, home)
