"""The exact prompt texts of generation and evaluation tasks (used by the assets and estimates)."""

import pandas as pd

from .rendering import render_prompt


def concepts_by_combo(content_combinations: pd.DataFrame) -> dict[str, list[dict[str, str]]]:
    """combo_id -> the template variable ``concepts`` (in the combination's order)."""
    return {
        str(combo_id): [
            {"concept_id": r.concept_id, "name": r.name, "description": r.description}
            for r in group.sort_values("position").itertuples(index=False)
        ]
        for combo_id, group in content_combinations.groupby("combo_id")
    }


def generation_prompt_text(
    templates: dict[str, str], template: str, concepts: list[dict[str, str]]
) -> str:
    return render_prompt(templates[template], template, {"concepts": concepts})


def evaluation_prompt_text(templates: dict[str, str], template: str, response: str) -> str:
    return render_prompt(templates[template], template, {"response": response})
