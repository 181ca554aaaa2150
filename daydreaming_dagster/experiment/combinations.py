"""Every k-sized combination of concepts, with ids that always mean the same set of concepts.

An id is assigned once, when a set of concepts first appears, and kept in an append-only
registry (see ``combination_registry``): the same set gets the same id in every selection,
for every ``k_max``, however the concept file is ordered or extended, and no id is ever given
to another set. Within a combination the concepts keep the order they had when it was first
registered, so its prompt does not change when the concept file is reordered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

_COMBO_ID = re.compile(r"^combo_(\d{3,})$")


@dataclass(frozen=True)
class ConceptCombination:
    combo_id: str
    concept_ids: tuple[str, ...]

    @property
    def concept_set(self) -> frozenset[str]:
        return frozenset(self.concept_ids)


def combo_id_for(number: int) -> str:
    """``combo_001`` style id (the seed's format; past 999 it simply grows a digit)."""
    if number < 1:
        raise ValueError(f"combination numbers start at 1, got {number}.")
    return f"combo_{number:03d}"


def combo_number(combo_id: str) -> int:
    """1 for ``combo_001``; a ValueError for anything not in the seed's format."""
    match = _COMBO_ID.match(combo_id)
    if match is None:
        raise ValueError(f"{combo_id!r} is not a combination id of the form combo_NNN.")
    return int(match.group(1))


def concept_sets(concept_ids: list[str], k: int) -> list[tuple[str, ...]]:
    """All k-sized combinations of ``concept_ids``, in ``itertools.combinations`` order."""
    if k < 1:
        raise ValueError(f"k_max must be at least 1, got {k}.")
    if len(set(concept_ids)) != len(concept_ids):
        raise ValueError(f"Concept ids must be unique, got {concept_ids}.")
    if k > len(concept_ids):
        raise ValueError(
            f"k_max={k} is larger than the number of loaded concepts ({len(concept_ids)}); "
            "lower k_max or load more concepts (concept_ids_filter)."
        )
    return list(combinations(concept_ids, k))


def check_registry(entries: list[ConceptCombination], source: str = "the registry") -> None:
    """Every id well-formed and used once, every set of concepts registered once."""
    seen_ids: dict[str, tuple[str, ...]] = {}
    seen_sets: dict[frozenset[str], str] = {}
    for entry in entries:
        combo_number(entry.combo_id)
        if not entry.concept_ids or len(set(entry.concept_ids)) != len(entry.concept_ids):
            raise ValueError(f"{source}: {entry.combo_id} lists concepts {entry.concept_ids}.")
        if entry.combo_id in seen_ids:
            raise ValueError(f"{source} gives {entry.combo_id} twice; each id is used once.")
        if entry.concept_set in seen_sets:
            raise ValueError(
                f"{source} registers the same concepts as {seen_sets[entry.concept_set]} and "
                f"{entry.combo_id}; each set of concepts has one id."
            )
        seen_ids[entry.combo_id] = entry.concept_ids
        seen_sets[entry.concept_set] = entry.combo_id


def assign_ids(
    wanted: list[tuple[str, ...]], registry: list[ConceptCombination]
) -> tuple[list[ConceptCombination], list[ConceptCombination]]:
    """The combinations for ``wanted`` sets (registered ids and concept order; new sets get the
    next free numbers, in the order given), and the entries the registry must append."""
    check_registry(registry)
    by_set = {entry.concept_set: entry for entry in registry}
    next_number = max((combo_number(e.combo_id) for e in registry), default=0) + 1
    chosen: list[ConceptCombination] = []
    new: list[ConceptCombination] = []
    for concept_ids in wanted:
        key = frozenset(concept_ids)
        entry = by_set.get(key)
        if entry is None:
            entry = ConceptCombination(combo_id_for(next_number), tuple(concept_ids))
            next_number += 1
            by_set[key] = entry
            new.append(entry)
        chosen.append(entry)
    return sorted(chosen, key=lambda c: combo_number(c.combo_id)), new


def make_combinations(
    concept_ids: list[str], k: int, registry: list[ConceptCombination] | None = None
) -> list[ConceptCombination]:
    """All k-sized combinations of ``concept_ids`` with their registered ids (an empty
    registry numbers them from 1 in ``itertools.combinations`` order)."""
    chosen, _new = assign_ids(concept_sets(concept_ids, k), list(registry or []))
    return chosen
