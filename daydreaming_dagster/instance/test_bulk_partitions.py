"""100,000 dynamic partition keys registered and pruned on the project's SQLite instance."""

from pathlib import Path

from dagster import DagsterInstance, DynamicPartitionsDefinition

from daydreaming_dagster.assets.partitions import ADD_CHUNK, sync_partitions

from .pooled_sqlite_event_log import PooledSqliteEventLogStorage

ROOT = Path(__file__).parents[2]
KEYS = [f"combo_{n:06d}_02_problem_solving_google/gemini-2.5-flash" for n in range(100_000)]


def project_instance(home: Path) -> DagsterInstance:
    (home / "dagster.yaml").write_text(
        (ROOT / "dagster_home" / "dagster.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return DagsterInstance.from_config(str(home))


def test_100k_keys_are_added_and_pruned_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv("DAYDREAMING_POSTGRES_URL", raising=False)
    partitions = DynamicPartitionsDefinition(name="many")
    with project_instance(tmp_path) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        assert len(KEYS) > 100 * ADD_CHUNK  # far more keys than one batch may hold
        assert sync_partitions(instance, partitions, KEYS) == (100_000, 0)
        assert instance.get_dynamic_partitions("many") == KEYS  # registration order kept
        assert sync_partitions(instance, partitions, KEYS) == (0, 0)
        kept = KEYS[::4]
        assert sync_partitions(instance, partitions, kept) == (0, 75_000)
        assert instance.get_dynamic_partitions("many") == kept


def test_storages_without_bulk_delete_prune_key_by_key():
    partitions = DynamicPartitionsDefinition(name="few")
    with DagsterInstance.ephemeral() as instance:
        assert not hasattr(instance.event_log_storage, "delete_dynamic_partitions")
        keys = KEYS[: 2 * ADD_CHUNK + 20]
        assert sync_partitions(instance, partitions, keys) == (len(keys), 0)
        assert sync_partitions(instance, partitions, keys[20:]) == (0, 20)
        assert instance.get_dynamic_partitions("few") == keys[20:]
