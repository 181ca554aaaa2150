"""The instance's storage: SQLite files under DAGSTER_HOME, or PostgreSQL when
``DAYDREAMING_POSTGRES_URL`` is set.

dagster.yaml cannot say "PostgreSQL if a variable is set, else SQLite", so both dagster.yaml
files name the three classes below. Each is Dagster's (or our pooled) SQLite storage, and its
``from_config_value`` returns dagster-postgres' storage instead when the variable is set. The
choice is made wherever the instance is loaded (this command, ``dagster dev``, ``dagster asset
materialize``, the processes a run launcher starts), from the same variable, so every process
of one setup uses the same database.
"""

from __future__ import annotations

import os

from dagster._core.storage.runs import SqliteRunStorage
from dagster._core.storage.schedules import SqliteScheduleStorage
from dagster._serdes import ConfigurableClassData

from ..records.postgres_url import postgres_url
from .pooled_sqlite_event_log import PooledSqliteEventLogStorage

OPTIONAL_BASE_DIR = PooledSqliteEventLogStorage.config_type()  # {"base_dir": optional string}


def _base_dir(config_value: dict, *relative: str) -> str:
    base = config_value.get("base_dir")
    if base:
        return base
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError("Set base_dir in dagster.yaml, or DAGSTER_HOME, for SQLite storage.")
    return os.path.join(home, *relative)


def _postgres_or_sqlite(inst_data, config_value, postgres_class: str, sqlite, *relative: str):
    """dagster-postgres' storage (``postgres_class``, imported only when used) when the URL is
    set, else ``sqlite(base_dir, inst_data)`` with base_dir from the config or DAGSTER_HOME."""
    url = postgres_url()
    if url:
        from . import pooled_postgres

        return getattr(pooled_postgres, postgres_class)(url, inst_data=inst_data)
    return sqlite(_base_dir(config_value, *relative), inst_data)


class ProjectRunStorage(SqliteRunStorage):
    """Runs: ``$DAGSTER_HOME/history/runs.db``, or the PostgreSQL database."""

    @classmethod
    def config_type(cls):
        return OPTIONAL_BASE_DIR

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value):
        return _postgres_or_sqlite(
            inst_data, config_value, "PooledPostgresRunStorage", SqliteRunStorage.from_local,
            "history",
        )  # fmt: skip


class ProjectEventLogStorage(PooledSqliteEventLogStorage):
    """Event logs: one SQLite file per run under ``$DAGSTER_HOME/history/runs``, or PostgreSQL."""

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value):
        return _postgres_or_sqlite(
            inst_data, config_value, "PooledPostgresEventLogStorage", PooledSqliteEventLogStorage,
            "history", "runs",
        )  # fmt: skip


class ProjectScheduleStorage(SqliteScheduleStorage):
    """Schedules and sensors: ``$DAGSTER_HOME/schedules``, or the PostgreSQL database."""

    @classmethod
    def config_type(cls):
        return OPTIONAL_BASE_DIR

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value):
        return _postgres_or_sqlite(
            inst_data, config_value, "PostgresScheduleStorage", SqliteScheduleStorage.from_local,
            "schedules",
        )  # fmt: skip


STORAGE_CLASSES = {
    "run_storage": ProjectRunStorage,
    "event_log_storage": ProjectEventLogStorage,
    "schedule_storage": ProjectScheduleStorage,
}


def project_storage_overrides() -> dict[str, dict[str, str]]:
    """Instance settings naming the classes above (for an instance whose dagster.yaml does not)."""
    return {
        key: {"module": __name__, "class": klass.__name__} for key, klass in STORAGE_CLASSES.items()
    }
