"""A real PostgreSQL server for the tests that need one, never a mock.

``.ci/run`` starts one from Debian's ``postgresql`` package and exports its admin URL as
``DAYDREAMING_TEST_POSTGRES_URL``. Without it, the tests start their own the same way: initdb in
a temporary folder, as a non-root user (``postgres`` when the tests run as root), listening on
127.0.0.1 only, stopped when the session ends. Each test gets a fresh database on it.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

URL_ENV = "DAYDREAMING_TEST_POSTGRES_URL"
REQUIRE_ENV = "DAYDREAMING_REQUIRE_POSTGRES"
HOW_TO_GET_ONE = (
    "PostgreSQL tests need a server: install Debian's postgresql package "
    "(apt-get install postgresql; the tests then start one in a temp folder), or set "
    f"{URL_ENV}=postgresql://USER@127.0.0.1:PORT/postgres. `bash .ci/run` does the first."
)


def _server_binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


class LocalServer:
    """initdb + pg_ctl in a temp folder; ``url`` is the admin URL of its ``postgres`` db."""

    def __init__(self, binaries: Path):
        self._bin = binaries
        self.folder = Path(tempfile.mkdtemp(prefix="daydreaming-pg-"))
        self.port = _free_port()
        self.user = "postgres"
        self.url = f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, user="postgres")
        data = self.folder / "data"
        initdb = [str(self._bin / "initdb"), "-D", str(data), "-A", "trust", "-U", self.user]
        subprocess.run(_as_server_user(initdb), check=True, capture_output=True)
        options = f"-h 127.0.0.1 -p {self.port} -k {self.folder}"
        start = [str(self._bin / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "log")]
        subprocess.run(
            _as_server_user([*start, "-o", options, "-w", "start"]), check=True, capture_output=True
        )

    def stop(self) -> None:
        stop = [str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "stop"]
        subprocess.run(_as_server_user(stop), capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1). {HOW_TO_GET_ONE}")
    pytest.skip(f"{reason}. {HOW_TO_GET_ONE}")


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """The admin URL of a running server (CI's, or one started for this session)."""
    given = os.environ.get(URL_ENV, "").strip()
    if given:
        yield given
        return
    binaries = _server_binaries()
    if binaries is None:
        unavailable("No PostgreSQL server programs (initdb) on this machine")
    server = LocalServer(binaries)
    try:
        server.start()
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        unavailable(f"Could not start PostgreSQL: {exc} {detail.decode(errors='replace')[:200]}")
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A fresh, empty database for one test (dropped afterwards), as a plain postgresql:// URL,
    the form a user writes."""
    name = f"daydreaming_test_{uuid.uuid4().hex[:12]}"
    admin = psycopg2.connect(postgres_admin_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    base = postgres_admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
