"""How the means moved between two cohorts (two runs' parsed scores), on what both share.

An item is an essay slot: (combination, generation template, generation model, evaluation
template). It is compared only through the judges that scored it in both cohorts, so adding
or dropping a judge does not move a mean by itself. Each cohort's item score is the mean over
those judges (and over replicates); intervals resample items (paired bootstrap).
"""

from __future__ import annotations

import pandas as pd

from .statistics import bootstrap_mean_ci

ITEM = ["combo_id", "generation_template", "generation_model", "evaluation_template"]
DIMENSIONS = ["generation_model", "generation_template"]
COLUMNS = [
    "dimension",
    "value",
    "evaluation_template",
    "n_items",
    "mean_a",
    "mean_b",
    "mean_diff",
    "ci95_low",
    "ci95_high",
]


def _judged(scores: pd.DataFrame) -> pd.DataFrame:
    scored = scores[scores["score"].notna()]
    return scored.groupby([*ITEM, "evaluation_model"], as_index=False)["score"].mean()


def shared_items(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """One row per item scored in both cohorts by at least one common judge, with each
    cohort's mean over the common judges (``score_a``, ``score_b``)."""
    both = _judged(a).merge(
        _judged(b), on=[*ITEM, "evaluation_model"], suffixes=("_a", "_b"), how="inner"
    )
    if both.empty:
        return pd.DataFrame(columns=[*ITEM, "score_a", "score_b"])
    return both.groupby(ITEM, as_index=False)[["score_a", "score_b"]].mean()


def _row(dimension: str, value: str, template: str, block: pd.DataFrame) -> dict:
    differences = (block["score_b"] - block["score_a"]).to_numpy(dtype=float)
    low, high = bootstrap_mean_ci(differences)
    empty = float("nan")
    return {
        "dimension": dimension,
        "value": value,
        "evaluation_template": template,
        "n_items": len(block),
        "mean_a": float(block["score_a"].mean()) if len(block) else empty,
        "mean_b": float(block["score_b"].mean()) if len(block) else empty,
        "mean_diff": float(differences.mean()) if len(differences) else empty,
        "ci95_low": low,
        "ci95_high": high,
    }


def compare_cohorts(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Per evaluation template: the overall mean, then each generation model's and each
    generation template's, in cohort A and B on shared items, and B - A with its interval."""
    items = shared_items(a, b)
    rows = []
    for template in sorted(items["evaluation_template"].unique()):
        block = items[items["evaluation_template"] == template]
        rows.append(_row("all", "all", template, block))
        for dimension in DIMENSIONS:
            for value, group in block.groupby(dimension, sort=True):
                rows.append(_row(dimension, str(value), template, group))
    return pd.DataFrame(rows, columns=COLUMNS)
