"""Where every file of the experiment lives under the data root, and how it is written.

The files are the record of the experiment; the Dagster instance is only the index over them.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..experiment.file_names import key_to_file_stem


@dataclass(frozen=True)
class DataLayout:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "01_raw"

    @property
    def concepts_file(self) -> Path:
        return self.raw / "concepts" / "day_dreaming_concepts.json"

    @property
    def generation_templates_dir(self) -> Path:
        return self.raw / "generation_templates"

    @property
    def evaluation_templates_dir(self) -> Path:
        return self.raw / "evaluation_templates"

    @property
    def evaluation_templates_file(self) -> Path:
        return self.raw / "evaluation_templates.csv"

    @property
    def generation_models_file(self) -> Path:
        return self.raw / "generation_models.csv"

    @property
    def evaluation_models_file(self) -> Path:
        return self.raw / "evaluation_models.csv"

    @property
    def controls_dir(self) -> Path:
        return self.raw / "controls"

    @property
    def calibration_responses(self) -> Path:
        return self.root / "04_evaluation" / "calibration_responses"

    @property
    def leak_phrases_file(self) -> Path:
        return self.raw / "leak_phrases.txt"

    @property
    def combination_registry(self) -> Path:
        """Every combination id ever assigned and its concepts (append-only; outputs may be
        deleted, this file not: it belongs in version control with the experiment)."""
        return self.root / "combination_registry.csv"

    @property
    def tasks(self) -> Path:
        return self.root / "02_tasks"

    @property
    def generation_prompts(self) -> Path:
        return self.root / "03_generation" / "generation_prompts"

    @property
    def generation_responses(self) -> Path:
        return self.root / "03_generation" / "generation_responses"

    @property
    def evaluation_prompts(self) -> Path:
        return self.root / "04_evaluation" / "evaluation_prompts"

    @property
    def evaluation_responses(self) -> Path:
        return self.root / "04_evaluation" / "evaluation_responses"

    @property
    def response_cache(self) -> Path:
        """Every answer ever paid for, by call key (see llm_calls.response_cache)."""
        return self.root / "llm_cache"

    @property
    def parsing(self) -> Path:
        return self.root / "05_parsing"

    @property
    def summary(self) -> Path:
        return self.root / "06_summary"

    @property
    def review(self) -> Path:
        """Human review: the key of exported sheets and the imported human scores. Nothing
        the pipeline runs writes here, so a re-run never overwrites a human score."""
        return self.root / "07_review"

    @property
    def failed_tasks_file(self) -> Path:
        """The tasks whose last attempt by ``daydreaming run`` failed, and why."""
        return self.parsing / "failed_tasks.json"

    @property
    def report(self) -> Path:
        """The static HTML report (``daydreaming report``)."""
        return self.summary / "report"

    @property
    def cohorts(self) -> Path:
        """One folder per ``daydreaming run``: its manifest and a copy of its results."""
        return self.root / "cohorts"


def text_path(folder: Path, partition_key: str) -> Path:
    """``folder/<flat file name>.txt`` for a partition key."""
    return folder / f"{key_to_file_stem(partition_key)}.txt"


def record_path(folder: Path, partition_key: str) -> Path:
    """The call record (tokens, cost, latency, model) kept beside a response."""
    return folder / f"{key_to_file_stem(partition_key)}.json"


def read_record(folder: Path, partition_key: str) -> dict[str, Any] | None:
    """A partition's call record, or None when it is missing or unreadable."""
    try:
        return json.loads(record_path(folder, partition_key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def read_records(folder: Path) -> list[dict[str, Any]]:
    """Every readable call record in ``folder`` (none if the folder does not exist yet)."""
    records = []
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        try:
            records.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return records


def write_bytes_atomic(path: Path, data: bytes, durable: bool = True) -> None:
    """Write via a temporary file and rename, so a crash never leaves a half-written file.

    ``durable`` also flushes the data to disk before the rename, so the file survives a power
    cut too; files that can be rebuilt for free (prompts, charts) skip that cost. The temporary
    name is unique to this process and thread (each writes one file at a time), which saves
    ``mkstemp``'s random names and retries on every one of the thousands of files a run writes.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        handle = open(tmp, "wb")  # noqa: SIM115 - closed below, before the rename
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(tmp, "wb")  # noqa: SIM115
    try:
        with handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str, durable: bool = True) -> None:
    """``write_bytes_atomic`` for UTF-8 text, written exactly as given (no newline changes)."""
    write_bytes_atomic(path, text.encode("utf-8"), durable)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
