"""The append-only file of combination ids: ``data/combination_registry.csv``.

One row per id ever assigned: ``combo_id``, its ``concept_ids`` in prompt order (joined by
``|``) and when it was registered. Rows are only ever added, under a lock, so runs started at
the same time from the UI and the command line agree on every id. Deleting the outputs
(02_tasks ... 06_summary) leaves it alone; keep it in version control with the experiment.
"""

from __future__ import annotations

import csv
import io
import tempfile
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock

from ..experiment.call_identity import sha256_text
from ..experiment.combinations import ConceptCombination, assign_ids, check_registry
from .data_layout import write_text_atomic

COLUMNS = ["combo_id", "concept_ids", "registered_at"]
SEPARATOR = "|"


def _lock_for(path: Path) -> FileLock:
    # In the temp folder, not beside the registry, so the data folder holds no lock files.
    digest = sha256_text(str(path.resolve()))[:16]
    return FileLock(str(Path(tempfile.gettempdir()) / f"daydreaming-registry-{digest}.lock"))


def read_registry(path: Path) -> list[ConceptCombination]:
    """Every registered combination, in file order; a damaged file is an error naming it."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"combo_id", "concept_ids"} <= set(reader.fieldnames):
            raise ValueError(
                f"{path} is not a combination registry (expected columns {COLUMNS}); restore it "
                "from version control, or move it away to start numbering from combo_001."
            )
        entries = [
            ConceptCombination(row["combo_id"], tuple(row["concept_ids"].split(SEPARATOR)))
            for row in reader
        ]
    check_registry(entries, str(path))
    return entries


def _rows_text(entries: list[ConceptCombination], registered_at: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for entry in entries:
        writer.writerow([entry.combo_id, SEPARATOR.join(entry.concept_ids), registered_at])
    return buffer.getvalue()


def register_combinations(
    path: Path,
    wanted: list[tuple[str, ...]],
    across_machines: AbstractContextManager | None = None,
) -> tuple[list[ConceptCombination], list[ConceptCombination]]:
    """The combinations for ``wanted`` concept sets, registering the new ones; returns them
    (in id order) and the newly registered entries.

    The lock file serialises the processes of one machine. A data folder shared by several
    machines needs ``across_machines`` too (a lock every machine sees, such as the database's),
    or two of them could give the same new id to different concept sets."""
    for concept_ids in wanted:
        bad = [c for c in concept_ids if SEPARATOR in c]
        if bad:
            raise ValueError(f"Concept ids may not contain {SEPARATOR!r}: {bad}.")
    with _lock_for(path), across_machines or nullcontext():
        registry = read_registry(path)
        chosen, new = assign_ids(wanted, registry)
        if new:
            existing = path.read_text(encoding="utf-8") if path.exists() else ",".join(COLUMNS)
            now = datetime.now(UTC).isoformat(timespec="seconds")
            text = existing.rstrip("\n") + "\n" + _rows_text(new, now)
            write_text_atomic(path, text)
    return chosen, new
