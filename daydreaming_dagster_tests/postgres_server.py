"""A real PostgreSQL server for the tests that need one, never a mock.

``.ci/run`` starts one from Debian's ``postgresql`` package and exports its admin URL as
``DAYDREAMING_TEST_POSTGRES_URL``. Without it, the tests start their own the same way: initdb in
a temporary folder, as a non-root user (``postgres`` when the tests run as root), listening on
127.0.0.1 only, stopped when the session ends. Each test gets a fresh database on it.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator

import psycopg2
import pytest

from daydreaming_dagster.local_postgres import LocalServer, create_database, server_binaries

URL_ENV = "DAYDREAMING_TEST_POSTGRES_URL"
REQUIRE_ENV = "DAYDREAMING_REQUIRE_POSTGRES"
HOW_TO_GET_ONE = (
    "PostgreSQL tests need a server: install Debian's postgresql package "
    "(apt-get install postgresql; the tests then start one in a temp folder), or set "
    f"{URL_ENV}=postgresql://USER@127.0.0.1:PORT/postgres. `bash .ci/run` does the first."
)


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
    binaries = server_binaries()
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
    url = create_database(postgres_admin_url, name)
    admin = psycopg2.connect(postgres_admin_url)
    admin.autocommit = True
    try:
        yield url
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def query(database_url: str, sql: str) -> list[tuple]:
    """The rows of one statement, in a connection of its own."""
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()
