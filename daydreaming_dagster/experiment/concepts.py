"""Concepts and their descriptions at three levels of detail."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

DESCRIPTION_LEVELS = ("sentence", "paragraph", "article")
# When a level is missing, fall back to the next shorter one that exists.
_FALLBACK_ORDER = {
    "article": ("article", "paragraph", "sentence"),
    "paragraph": ("paragraph", "sentence"),
    "sentence": ("sentence",),
}


@dataclass(frozen=True)
class Concept:
    concept_id: str
    name: str
    descriptions: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ChosenDescription:
    text: str
    level_used: str
    fell_back: bool


def load_concepts(path: Path) -> list[Concept]:
    """Read ``{"concepts": [{concept_id, name, descriptions: {level: text}}]}`` in file order."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    concepts = [
        Concept(
            concept_id=item["concept_id"],
            name=item["name"],
            descriptions={k: v for k, v in item.get("descriptions", {}).items() if v and v.strip()},
        )
        for item in data["concepts"]
    ]
    ids = [c.concept_id for c in concepts]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"Duplicate concept ids in {path}: {duplicates}. Each id must be unique.")
    return concepts


def select_concepts(concepts: list[Concept], concept_ids: list[str] | None) -> list[Concept]:
    """Keep only ``concept_ids`` (in file order); ``None`` keeps all. Unknown ids are an error."""
    if concept_ids is None:
        return list(concepts)
    known = {c.concept_id for c in concepts}
    unknown = [i for i in concept_ids if i not in known]
    if unknown:
        raise ValueError(
            f"concept_ids_filter names unknown concepts {unknown}; known ids are {sorted(known)}."
        )
    wanted = set(concept_ids)
    return [c for c in concepts if c.concept_id in wanted]


def choose_description(concept: Concept, level: str) -> ChosenDescription:
    """The description at ``level``, or the next shorter level that exists."""
    if level not in _FALLBACK_ORDER:
        raise ValueError(
            f"description_level must be one of {list(DESCRIPTION_LEVELS)}, got {level!r}."
        )
    for candidate in _FALLBACK_ORDER[level]:
        text = concept.descriptions.get(candidate)
        if text:
            return ChosenDescription(text=text, level_used=candidate, fell_back=candidate != level)
    raise ValueError(
        f"Concept {concept.concept_id!r} has no description at level {level!r} or any shorter "
        "level; add one to the concepts file."
    )
