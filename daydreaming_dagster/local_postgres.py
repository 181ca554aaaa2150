"""A throw-away PostgreSQL server from the machine's own PostgreSQL programs (Debian's
``postgresql`` package): initdb in a temporary folder, as a non-root user (``postgres`` when run
as root, since PostgreSQL refuses root), listening on 127.0.0.1 only. For tests and benchmarks,
never for data you keep.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def server_binaries() -> Path | None:
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


def create_database(admin_url: str, name: str) -> str:
    """A new empty database on the server of ``admin_url``; returns its plain URL."""
    import psycopg2

    connection = psycopg2.connect(admin_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"
