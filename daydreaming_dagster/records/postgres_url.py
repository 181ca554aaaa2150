"""Which PostgreSQL database the project uses, if any: ``DAYDREAMING_POSTGRES_URL``.

Read by the instance's storage (instance/storage_choice.py) and by the call limits that hold
across machines (llm_calls/database_limits.py), so both use one database.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit

POSTGRES_URL_ENV = "DAYDREAMING_POSTGRES_URL"
# SQLAlchemy 2.1 reads a plain postgresql:// URL as psycopg 3; dagster-postgres is written
# against psycopg2 (its event watcher uses psycopg2 directly), so that driver is named here.
DRIVER_SCHEME = "postgresql+psycopg2"
# psycopg 3's name too: a user who has it in mind gets the driver installed here, same database.
PLAIN_SCHEMES = ("postgresql", "postgres", DRIVER_SCHEME, "postgresql+psycopg")


class PostgresUrlError(ValueError):
    """DAYDREAMING_POSTGRES_URL is set but is not a usable PostgreSQL URL."""


def postgres_url() -> str | None:
    """The PostgreSQL URL to use (with the psycopg2 driver named), or None for SQLite."""
    raw = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if not raw:
        return None
    return with_psycopg2(raw)


def with_psycopg2(url: str) -> str:
    """The URL with psycopg2 named as its driver. The host may be left out (libpq's default
    Unix socket) or given as a socket folder (``postgresql://USER@/DATABASE?host=/run/x``), as
    libpq allows; the database may not."""
    scheme, sep, rest = url.partition("://")
    parts = urlsplit(url)
    if not sep or scheme not in PLAIN_SCHEMES or not parts.path.strip("/"):
        raise PostgresUrlError(
            f"{POSTGRES_URL_ENV} must look like postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE "
            f"(got {redacted(url)!r})."
        )
    return f"{DRIVER_SCHEME}://{rest}"


def redacted(url: str) -> str:
    """The URL without its password, for messages (secrets never reach a log line): libpq
    takes one in the user part and as a ``password`` query parameter."""
    parts = urlsplit(url)
    if parts.password is not None:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1))
    if parts.query:
        query = [
            (name, "***" if name.lower() == "password" else value)
            for name, value in parse_qsl(parts.query, keep_blank_values=True)
        ]
        parts = parts._replace(query=urlencode(query, safe="/*"))
    return parts.geturl()


def libpq_dsn(url: str) -> str:
    """The same URL as libpq (psycopg2.connect) reads it: without SQLAlchemy's driver name."""
    return url.replace(f"{DRIVER_SCHEME}://", "postgresql://", 1)
