"""The task tables built from the raw inputs: concepts at a description level, their
combinations, and the generation tasks with the hash of each prompt.

The setup assets build the tables with these functions, and so does ``daydreaming estimate``,
which launches no Dagster run: both get the same tables from the same inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .call_identity import sha256_text
from .combinations import ConceptCombination
from .concepts import Concept, choose_description
from .model_tables import parse_active
from .prompts import concepts_by_combo, generation_prompt_text
from .tasks import build_generation_tasks

CONCEPT_COLUMNS = ["concept_id", "name", "description_level", "description"]
COMBINATION_COLUMNS = [
    "combo_id",
    "position",
    "concept_id",
    "name",
    "description_level",
    "description",
]


@dataclass(frozen=True)
class TableSettings:
    """The selection, as ``ExperimentConfig`` has it (whose defaults are these)."""

    k_max: int = 4
    description_level: str = "paragraph"
    concept_ids: tuple[str, ...] | None = None
    template_names: tuple[str, ...] | None = None
    generation_replicates: int = 1
    evaluation_replicates: int = 1


def concepts_table(concepts: list[Concept], level: str) -> tuple[pd.DataFrame, list[str]]:
    """Each concept with the description generators will see at ``level``, and the ids of the
    concepts that lacked it and fell back to a shorter one."""
    rows, fell_back = [], []
    for concept in concepts:
        chosen = choose_description(concept, level)
        if chosen.fell_back:
            fell_back.append(concept.concept_id)
        rows.append(
            {
                "concept_id": concept.concept_id,
                "name": concept.name,
                "description_level": chosen.level_used,
                "description": chosen.text,
            }
        )
    return pd.DataFrame(rows, columns=CONCEPT_COLUMNS), fell_back


def combinations_table(
    combos: list[ConceptCombination], concepts_metadata: pd.DataFrame
) -> pd.DataFrame:
    """One row per (combination, concept), in prompt order, with the concept's description."""
    by_id = concepts_metadata.set_index("concept_id")
    rows = [
        {
            "combo_id": combo.combo_id,
            "position": position,
            "concept_id": concept_id,
            "name": by_id.at[concept_id, "name"],
            "description_level": by_id.at[concept_id, "description_level"],
            "description": by_id.at[concept_id, "description"],
        }
        for combo in combos
        for position, concept_id in enumerate(combo.concept_ids, start=1)
    ]
    return pd.DataFrame(rows, columns=COMBINATION_COLUMNS)


def combinations_from_table(table: pd.DataFrame) -> list[ConceptCombination]:
    """Back from the long table to combinations, in the table's order."""
    return [
        ConceptCombination(
            combo_id=str(combo_id), concept_ids=tuple(group.sort_values("position")["concept_id"])
        )
        for combo_id, group in table.groupby("combo_id", sort=False)
    ]


def generation_tasks_table(
    content_combinations: pd.DataFrame,
    templates: dict[str, str],
    models: pd.DataFrame,
    replicates: int = 1,
) -> pd.DataFrame:
    """combination x template x active model (x replicate), each with its prompt's hash."""
    concepts = concepts_by_combo(content_combinations)

    def prompt_sha256(combo: ConceptCombination, template: str) -> str:
        return sha256_text(generation_prompt_text(templates, template, concepts[combo.combo_id]))

    return build_generation_tasks(
        combinations_from_table(content_combinations),
        list(templates),
        models,
        replicates=replicates,
        prompt_sha256=prompt_sha256,
    )


def load_generation_templates(folder: Path, wanted: list[str] | None) -> dict[str, str]:
    """Generation templates (``*.txt``) by name, limited to ``wanted`` when given."""
    available = {p.stem: p for p in sorted(folder.glob("*.txt"))}
    if wanted is not None:
        unknown = [name for name in wanted if name not in available]
        if unknown:
            raise ValueError(
                f"template_names_filter names unknown generation templates {unknown}; "
                f"available in {folder}: {sorted(available)}."
            )
    names = [n for n in available if wanted is None or n in wanted]
    if not names:
        raise ValueError(f"No generation templates (*.txt) found in {folder}.")
    return {name: available[name].read_text(encoding="utf-8") for name in names}


def load_evaluation_templates(listing_file: Path, folder: Path) -> dict[str, str]:
    """The evaluation templates marked active in ``listing_file``, by name."""
    listing = pd.read_csv(listing_file, dtype=str)
    listing["active"] = parse_active(listing["active"], str(listing_file))
    names = list(listing.loc[listing["active"], "template"])
    if not names:
        raise ValueError(f"No active evaluation template in {listing_file}.")
    templates = {}
    for name in names:
        path = folder / f"{name}.txt"
        if not path.exists():
            raise FileNotFoundError(f"{listing_file} lists {name!r} but {path} does not exist.")
        templates[name] = path.read_text(encoding="utf-8")
    return templates
