"""Every k-sized combination of concepts, with stable ids.

Ids follow the order of ``itertools.combinations`` over the concepts in file order, so the
same concept list and k always give the same ``combo_001``, ``combo_002``, ...
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb


@dataclass(frozen=True)
class ConceptCombination:
    combo_id: str
    concept_ids: tuple[str, ...]


def combo_id_for(index: int, total: int) -> str:
    """``combo_001`` style id; widens past 999 so ids still sort in creation order."""
    width = max(3, len(str(total)))
    return f"combo_{index:0{width}d}"


def make_combinations(concept_ids: list[str], k: int) -> list[ConceptCombination]:
    """All k-sized combinations of ``concept_ids`` (order preserved), numbered from 1."""
    if k < 1:
        raise ValueError(f"k_max must be at least 1, got {k}.")
    if len(set(concept_ids)) != len(concept_ids):
        raise ValueError(f"Concept ids must be unique, got {concept_ids}.")
    if k > len(concept_ids):
        raise ValueError(
            f"k_max={k} is larger than the number of loaded concepts ({len(concept_ids)}); "
            "lower k_max or load more concepts (concept_ids_filter)."
        )
    total = comb(len(concept_ids), k)
    return [
        ConceptCombination(combo_id=combo_id_for(i, total), concept_ids=tuple(ids))
        for i, ids in enumerate(combinations(concept_ids, k), start=1)
    ]
