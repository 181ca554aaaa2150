"""Every paid-for answer, kept by what determines it, so the same call is never paid for twice.

The key is the endpoint, the model, the exact prompt text and the generation parameters. An entry
is written atomically the moment its answer arrives, before anything else happens, so a run killed
right after a call still finds the answer next time.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..experiment.call_identity import call_key, call_key_of_record
from ..records.data_layout import write_json_atomic

__all__ = ["CachedAnswer", "ResponseCache", "call_key", "call_key_of_record"]


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
