"""Every paid-for answer, kept by what determines it, so the same call is never paid for twice.

The key is the endpoint, the model, the exact prompt text and the generation parameters. An entry
is written atomically the moment its answer arrives, before anything else happens, so a run killed
right after a call still finds the answer next time.
"""

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data_layout import read_record, text_path, write_json_atomic


def call_key(
    base_url: str,
    model: str,
    prompt_sha256: str,
    temperature: float,
    max_tokens: int,
    replicate: int | str = 1,
) -> str:
    """Identity of a call; two calls with the same key would be asked the same question.

    Replicates ask the same question on purpose and want a fresh answer each, so any
    replicate label other than 1 is part of the key (replicate 1 keeps the key it always had).
    """
    fields = {
        "base_url": base_url.rstrip("/"),
        "model": model,
        "prompt_sha256": prompt_sha256,
        "temperature": float(temperature),
        "max_tokens": int(max_tokens),
    }
    if str(replicate) != "1":
        fields["replicate"] = str(replicate)
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8")).hexdigest()


def call_key_of_record(record: dict[str, Any]) -> str | None:
    """The key of the call a stored call record describes, or None for an incomplete record."""
    try:
        return call_key(
            record["base_url"],
            record["requested_model"],
            record["prompt_sha256"],
            record["temperature"],
            record["max_tokens"],
            record.get("replicate", 1),
        )
    except (KeyError, TypeError, ValueError):
        return None


def stored_record_for_call(folder: Path, partition_key: str, wanted_key: str) -> dict | None:
    """The partition's stored call record if its answer is exactly this call's, else None."""
    if not text_path(folder, partition_key).exists():
        return None
    record = read_record(folder, partition_key)
    return record if record is not None and call_key_of_record(record) == wanted_key else None


@dataclass(frozen=True)
class CachedAnswer:
    text: str
    record: dict[str, Any]


class ResponseCache:
    """One JSON file per call key under ``root`` (two-level fan-out keeps folders small)."""

    def __init__(self, root: Path):
        self.root = root

    def path_for(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> CachedAnswer | None:
        """The stored answer, or None; an unreadable entry counts as missing (it is rewritten)."""
        path = self.path_for(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return CachedAnswer(text=data["text"], record=data["record"])
        except (FileNotFoundError, json.JSONDecodeError, KeyError, TypeError):
            return None

    def put(self, key: str, text: str, record: dict[str, Any]) -> Path:
        path = self.path_for(key)
        write_json_atomic(path, {"key": key, "record": record, "text": text})
        return path
