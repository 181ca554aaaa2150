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


def _base_dir(config_value: dict, *relative: str) -> str:
    base = config_value.get("base_dir")
    if base:
        return base
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError("Set base_dir in dagster.yaml, or DAGSTER_HOME, for SQLite storage.")
    return os.path.join(home, *relative)


class ProjectRunStorage(SqliteRunStorage):
    """Runs: ``$DAGSTER_HOME/history/runs.db``, or the PostgreSQL database."""

    @classmethod
    def config_type(cls):
        return PooledSqliteEventLogStorage.config_type()  # an optional base_dir

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value):
        url = postgres_url()
        if url:
            from .pooled_postgres import PooledPostgresRunStorage  # imported only when used

            return PooledPostgresRunStorage(url, inst_data=inst_data)
        return SqliteRunStorage.from_local(_base_dir(config_value, "history"), inst_data)


class ProjectEventLogStorage(PooledSqliteEventLogStorage):
    """Event logs: one SQLite file per run under ``$DAGSTER_HOME/history/runs``, or PostgreSQL."""

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value):
        url = postgres_url()
        if url:
            from .pooled_postgres import PooledPostgresEventLogStorage

            return PooledPostgresEventLogStorage(url, inst_data=inst_data)
        return PooledSqliteEventLogStorage(_base_dir(config_value, "history", "runs"), inst_data)


class ProjectScheduleStorage(SqliteScheduleStorage):
    """Schedules and sensors: ``$DAGSTER_HOME/schedules``, or the PostgreSQL database."""

    @classmethod
    def config_type(cls):
        return PooledSqliteEventLogStorage.config_type()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value):
        url = postgres_url()
        if url:
            from dagster_postgres import PostgresScheduleStorage

            return PostgresScheduleStorage(url, inst_data=inst_data)
        return SqliteScheduleStorage.from_local(_base_dir(config_value, "schedules"), inst_data)


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
