"""What a summary is a summary of: the endpoint, the models, the selection and the task counts.

Written beside the summary tables and at the top of ``summary.md``, so a result from a local
test server can never pass for one from a real provider, and a subset's summary never passes
for the whole experiment's.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class StageCounts:
    done: int = 0
    stale: int = 0
    to_do: int = 0
    set_aside: int = 0  # results on disk of tasks outside this selection (kept, not counted)

    def describe(self) -> str:
        text = f"{self.done} done, {self.stale} stale, {self.to_do} to do"
        return text + (f" ({self.set_aside} set aside)" if self.set_aside else "")


@dataclass(frozen=True)
class SummaryContext:
    endpoint_host: str
    generation_models: list[str]
    evaluation_models: list[str]
    concepts: list[str]
    k_values: list[int]
    description_levels: list[str]
    generation_templates: list[str]
    evaluation_templates: list[str]
    generation: StageCounts
    evaluation: StageCounts
    inputs_fingerprint: str
    made_at: str
    notes: list[str] = field(default_factory=list)

    @property
    def local_endpoint(self) -> bool:
        return is_local_host(self.endpoint_host)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> SummaryContext:
        data: dict[str, Any] = json.loads(text)
        data["generation"] = StageCounts(**data["generation"])
        data["evaluation"] = StageCounts(**data["evaluation"])
        return cls(**data)

    def markdown(self) -> str:
        rows = [
            ("endpoint", self.endpoint_host),
            ("generation models", ", ".join(self.generation_models)),
            ("judges", ", ".join(self.evaluation_models)),
            (
                f"concepts (k = {', '.join(map(str, self.k_values))}; "
                f"{', '.join(self.description_levels)} descriptions)",
                ", ".join(self.concepts),
            ),
            ("generation templates", ", ".join(self.generation_templates)),
            ("evaluation templates", ", ".join(self.evaluation_templates)),
            ("generations", self.generation.describe()),
            ("evaluations", self.evaluation.describe()),
            ("made (UTC)", self.made_at),
        ]
        lines = ["| context | |", "| --- | --- |"]
        lines += [f"| {name} | {value.replace('|', '/')} |" for name, value in rows]
        notes = list(self.notes)
        if self.local_endpoint:
            notes.insert(
                0,
                f"The answers came from a local endpoint ({self.endpoint_host}), not a hosted "
                "provider.",
            )
        open_work = self.generation.stale + self.generation.to_do
        open_work += self.evaluation.stale + self.evaluation.to_do
        if open_work:
            notes.append(
                "Not every task is done: only done results are counted; stale and missing ones "
                "are listed in parsed_scores.csv and redone by the next run."
            )
        return "\n".join(lines + [""] + [f"- {note}" for note in notes]).rstrip() + "\n"


def is_local_host(host: str) -> bool:
    """Loopback, private or link-local addresses and ``localhost``."""
    name = urlsplit(f"//{host}").hostname or host
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local
