"""Which generator scores higher, on the same items? Paired comparisons of generation models.

Every generator answers the same combinations with the same templates, so two models are
compared on the items both answered: an item is (combination, generation template,
evaluation template), and a model's score on it is the mean over its essays (generation
replicates) of each essay's mean over judges. Pairing removes the variation between items
that an unpaired comparison of two means would count as noise.
"""

from __future__ import annotations

import gc
import warnings

import numpy as np
import pandas as pd

from .statistics import bootstrap_mean_ci

ITEM = ["combo_id", "generation_template", "evaluation_template"]
COLUMNS = [
    "evaluation_template",
    "model_a",
    "model_b",
    "n_pairs",
    "mean_diff",
    "ci95_low",
    "ci95_high",
    "p_wilcoxon",
    "p_holm",
]


def item_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Items x generation models: each model's score on each item (NaN where it has none)."""
    scored = scores[scores["score"].notna()]
    if scored.empty:
        return pd.DataFrame()
    essays = scored.groupby([*ITEM, "generation_model", "generation_task_id"])["score"].mean()
    per_item = essays.groupby(level=[*ITEM, "generation_model"]).mean()
    return per_item.unstack("generation_model")


def paired_differences(items: pd.DataFrame, template: str, a: str, b: str) -> np.ndarray:
    """model_a's minus model_b's score on every item of ``template`` both have a score on."""
    if a not in items.columns or b not in items.columns or items.empty:
        return np.array([], dtype=float)
    block = items[items.index.get_level_values("evaluation_template") == template][[a, b]]
    pairs = block.dropna()
    return (pairs[a] - pairs[b]).to_numpy(dtype=float)


def wilcoxon_p(differences: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p (scipy; zero differences dropped, as Wilcoxon did).
    1.0 when every difference is zero (no evidence either way); NaN without pairs."""
    from scipy.stats import wilcoxon  # ~1 s to import: only when comparing

    if len(differences) == 0:
        return float("nan")
    if not np.any(differences != 0):
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns that small samples use the exact test
        return float(wilcoxon(differences).pvalue)


def holm(p_values: pd.Series) -> pd.Series:
    """Holm's step-down adjustment over every non-missing p in the series (statsmodels)."""
    from statsmodels.stats.multitest import multipletests

    adjusted = pd.Series(np.nan, index=p_values.index, dtype=float)
    present = p_values.dropna()
    if len(present):
        # statsmodels ends its Holm branch with a full gc.collect(), which walks every object
        # of the process (0.1 s at 750 calls, seconds at 24,750): frozen objects are skipped.
        # A heap frozen already (a forked process is alive, see records.fork_memory) stays so.
        frozen_before = gc.get_freeze_count() > 0
        gc.freeze()
        try:
            adjusted[present.index] = multipletests(present.to_numpy(), method="holm")[1]
        finally:
            if not frozen_before:
                gc.unfreeze()
    return adjusted


def paired_comparisons(scores: pd.DataFrame) -> pd.DataFrame:
    """Every pair of generation models (in name order), per evaluation template: the mean
    difference model_a - model_b over shared items, its paired bootstrap 95% interval (items
    resampled), the Wilcoxon signed-rank p, and that p adjusted by Holm over all rows."""
    models = sorted(scores["generation_model"].dropna().unique())
    templates = sorted(scores["evaluation_template"].dropna().unique())
    items = item_scores(scores)
    rows = []
    for template in templates:
        for i, a in enumerate(models):
            for b in models[i + 1 :]:
                differences = paired_differences(items, template, a, b)
                low, high = bootstrap_mean_ci(differences)
                rows.append(
                    {
                        "evaluation_template": template,
                        "model_a": a,
                        "model_b": b,
                        "n_pairs": len(differences),
                        "mean_diff": (
                            float(differences.mean()) if len(differences) else float("nan")
                        ),
                        "ci95_low": low,
                        "ci95_high": high,
                        "p_wilcoxon": wilcoxon_p(differences),
                    }
                )
    table = pd.DataFrame(rows, columns=COLUMNS[:-1])
    table["p_holm"] = holm(table["p_wilcoxon"]) if len(table) else pd.Series(dtype=float)
    return table[COLUMNS]
