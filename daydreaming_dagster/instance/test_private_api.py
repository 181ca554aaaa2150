"""One check per private Dagster symbol the project uses (only this folder uses any).

Each asserts the shape the project relies on, so a Dagster upgrade that moves or changes one
fails here, by name, instead of breaking a run later. pyproject.toml pins the minor version
these pass on.
"""

import inspect

import dagster


def test_the_pinned_minor_version():
    major, minor = (int(part) for part in dagster.__version__.split(".")[:2])
    assert (major, minor) == (1, 13), "instance/ was written against Dagster 1.13: re-check it"


def test_asset_events_and_event_log_entries():
    from dagster._core.events import ASSET_EVENTS, DagsterEventType
    from dagster._core.events.log import EventLogEntry

    assert DagsterEventType.ASSET_MATERIALIZATION in ASSET_EVENTS
    fields = inspect.signature(EventLogEntry).parameters
    assert {"dagster_event", "run_id", "timestamp"} <= set(fields)


def test_sqlite_event_log_storage_methods_the_pooled_one_overrides():
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
        SQLITE_BUSY_TIMEOUT_SECONDS,
        SqliteEventLogStorage,
    )

    assert isinstance(SQLITE_BUSY_TIMEOUT_SECONDS, int | float)
    for name in (
        "_initdb",
        "has_table",
        "_has_asset_key_index_cols_on_connection",
        "_store_asset_event",
        "store_event",
        "store_event_batch",
        "upgrade",
        "wipe",
        "dispose",
        "_connect",
        "index_connection",
    ):
        assert callable(getattr(SqliteEventLogStorage, name, None)), name
    assert list(inspect.signature(SqliteEventLogStorage.__init__).parameters)[:3] == [
        "self",
        "base_dir",
        "inst_data",
    ]


def test_event_log_schema_tables_and_helpers():
    from dagster._core.storage.event_log import sqlite as sqlite_event_log
    from dagster._core.storage.event_log.schema import (
        AssetKeyTable,
        SqlEventLogStorageMetadata,
        SqlEventLogStorageTable,
    )
    from dagster._core.storage.sql import create_engine, get_alembic_config

    assert {"asset_key", "last_materialization"} <= set(AssetKeyTable.c.keys())
    assert {"run_id", "event", "dagster_event_type"} <= set(SqlEventLogStorageTable.c.keys())
    assert "event_logs" in SqlEventLogStorageMetadata.tables
    assert callable(create_engine) and callable(get_alembic_config)
    assert sqlite_event_log.sqlite_event_log.__file__


def test_serdes_time_and_instance_refs():
    from dagster._core.instance.ref import InstanceRef
    from dagster._serdes import ConfigurableClassData
    from dagster._time import datetime_from_timestamp

    assert "overrides" in inspect.signature(InstanceRef.from_dir).parameters
    assert {"module_name", "class_name", "config_yaml"} <= set(ConfigurableClassData._fields)
    assert datetime_from_timestamp(0).year == 1970


def test_modules_named_in_instance_configuration():
    from daydreaming_dagster.instance.refs import DEFAULT_RUN_COORDINATOR, NO_COMPUTE_LOGS

    for entry in (NO_COMPUTE_LOGS["compute_logs"], DEFAULT_RUN_COORDINATOR):
        module = __import__(entry["module"], fromlist=[entry["class"]])
        assert inspect.isclass(getattr(module, entry["class"])), entry


def test_every_class_the_instance_files_name_exists():
    """dagster.yaml and dagster_home/dagster.yaml name storage classes by module path."""
    from pathlib import Path

    import yaml

    root = Path(__file__).parents[2]
    for path in (root / "dagster.yaml", root / "dagster_home" / "dagster.yaml"):
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for section in config.values():
            if isinstance(section, dict) and "module" in section:
                module = __import__(section["module"], fromlist=[section["class"]])
                assert inspect.isclass(getattr(module, section["class"])), (path, section)


def test_sqlite_storages_that_storage_choice_extends():
    from dagster._core.storage.runs import SqliteRunStorage
    from dagster._core.storage.schedules import SqliteScheduleStorage

    for klass in (SqliteRunStorage, SqliteScheduleStorage):
        assert list(inspect.signature(klass.from_local).parameters)[:2] == ["base_dir", "inst_data"]


def test_the_storage_choice_picks_sqlite_without_a_database_url(tmp_path, monkeypatch):
    from dagster._serdes import ConfigurableClassData

    from daydreaming_dagster.instance.storage_choice import STORAGE_CLASSES

    monkeypatch.delenv("DAYDREAMING_POSTGRES_URL", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    for klass in STORAGE_CLASSES.values():
        data = ConfigurableClassData(klass.__module__, klass.__name__, "{}")
        storage = data.rehydrate(as_type=klass.__mro__[1])
        assert "sqlite" in type(storage).__module__.lower(), klass
        storage.dispose()


def test_workspace_and_run_creation_used_to_queue_worker_runs():
    from dagster import DagsterInstance
    from dagster._core.definitions.selector import JobSubsetSelector
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import ModuleTarget

    target = ModuleTarget(
        module_name="m", attribute=None, working_directory=None, location_name=None
    )
    assert target.module_name == "m"
    assert "code_server_log_level" in inspect.signature(WorkspaceProcessContext).parameters
    assert "job_name" in inspect.signature(JobSubsetSelector).parameters
    wanted = {"job_snapshot", "execution_plan_snapshot", "remote_job_origin", "job_code_origin"}
    assert wanted <= set(inspect.signature(DagsterInstance.create_run).parameters)


def test_dagster_postgres_engines_that_the_pooled_storages_replace():
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage
    from dagster_postgres.utils import create_pg_engine

    assert list(inspect.signature(create_pg_engine).parameters)[:2] == [
        "postgres_url",
        "token_provider",
    ]
    for klass in (PostgresEventLogStorage, PostgresRunStorage):
        assert "self._engine = create_pg_engine(" in inspect.getsource(klass.__init__), klass
        assert "create_pg_connection(self._engine)" in inspect.getsource(klass), klass


def test_dynamic_partitions_table_and_storage_helpers():
    from dagster._core.storage.event_log.schema import DynamicPartitionsTable
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    assert {"partitions_def_name", "partition"} <= set(DynamicPartitionsTable.c.keys())
    for name in ("_check_partitions_table", "index_connection"):
        assert callable(getattr(SqlEventLogStorage, name, None)), name


def test_in_process_results_keep_their_outputs_in_a_dict():
    """run_outputs.drop_outputs empties ``ExecuteInProcessResult._output_capture``."""
    from dagster import ExecuteInProcessResult, asset, materialize

    @asset
    def kept() -> list[int]:
        return [1, 2, 3]

    result = materialize([kept])
    assert isinstance(result, ExecuteInProcessResult)
    assert isinstance(result._output_capture, dict)
    assert [1, 2, 3] in result._output_capture.values()
    assert result.output_for_node("kept") == [1, 2, 3]  # read from that dict
