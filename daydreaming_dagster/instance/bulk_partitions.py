"""Deleting many dynamic partition keys at once (private Dagster API).

Dagster's public ``delete_dynamic_partition`` removes one key per transaction: about 3 ms a key
on SQLite here, so pruning 100,000 stale keys would take minutes. This mixin adds
``delete_dynamic_partitions``, one ``DELETE ... IN (...)`` per chunk on the same table, for any
SQL event log storage (SQLite, PostgreSQL); ``assets.partitions`` uses it when the instance's
event log storage has it and falls back to the public one-key call otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster._core.storage.event_log.schema import DynamicPartitionsTable

# Bound variables per statement stay under SQLite's oldest limit (999) and PostgreSQL's (65,535).
KEYS_PER_STATEMENT = 900


class BulkDynamicPartitionsMixin:
    """For a ``SqlEventLogStorage`` subclass: delete partition keys in chunks."""

    def delete_dynamic_partitions(self, partitions_def_name: str, partition_keys: Sequence[str]):
        """Remove ``partition_keys`` (missing ones are ignored), one transaction in all."""
        self._check_partitions_table()  # type: ignore[attr-defined]
        keys = list(dict.fromkeys(partition_keys))
        table = DynamicPartitionsTable
        with self.index_connection() as conn:  # type: ignore[attr-defined]
            for start in range(0, len(keys), KEYS_PER_STATEMENT):
                chunk = keys[start : start + KEYS_PER_STATEMENT]
                conn.execute(
                    table.delete().where(
                        (table.c.partitions_def_name == partitions_def_name)
                        & table.c.partition.in_(chunk)
                    )
                )
