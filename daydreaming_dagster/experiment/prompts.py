"""The exact prompt texts of generation and evaluation tasks (used by the assets and estimates)."""

import pandas as pd

from .rendering import render_prompt


def concepts_by_combo(content_combinations: pd.DataFrame) -> dict[str, list[dict[str, str]]]:
    """combo_id -> the template variable ``concepts`` (in the combination's order). One sort
    and one pass over the table (a sort per group took about 3 ms per combination)."""
    ordered = content_combinations.sort_values(["combo_id", "position"], kind="stable")
    concepts: dict[str, list[dict[str, str]]] = {}
    columns = ordered[["combo_id", "concept_id", "name", "description"]]
    for combo_id, concept_id, name, description in columns.itertuples(index=False, name=None):
        concepts.setdefault(str(combo_id), []).append(
            {"concept_id": concept_id, "name": name, "description": description}
        )
    return concepts


def generation_prompt_text(
    templates: dict[str, str], template: str, concepts: list[dict[str, str]]
) -> str:
    return render_prompt(templates[template], template, {"concepts": concepts})


def evaluation_prompt_text(templates: dict[str, str], template: str, response: str) -> str:
    return render_prompt(templates[template], template, {"response": response})
