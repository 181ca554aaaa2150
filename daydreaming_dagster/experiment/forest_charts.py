"""Forest plots: differences with their 95% intervals, one line each, against a line at zero.

Used for the paired model comparisons (shown with the other charts of ``final_results``) and
for ``daydreaming compare`` (how means moved between two cohorts).
"""

from __future__ import annotations

import pandas as pd

from .charts import _png, _short, plt
from .paired_comparisons import item_scores, paired_differences
from .statistics import bootstrap_mean_ci


def forest_plot(table: pd.DataFrame, labels: list[str], title: str, xlabel: str) -> bytes:
    """``table`` needs evaluation_template, mean_diff, ci95_low, ci95_high, n (one panel per
    evaluation template, one line per row, labelled by ``labels`` in row order)."""
    table = table.assign(label=labels).reset_index(drop=True)
    templates = sorted(table["evaluation_template"].unique()) or ["(nothing to compare)"]
    heights = [max(1, int((table["evaluation_template"] == t).sum())) for t in templates]
    figure, axes = plt.subplots(
        len(templates),
        1,
        figsize=(9, sum(1.5 + 0.4 * h for h in heights)),
        squeeze=False,
        gridspec_kw={"height_ratios": heights},
    )
    for axis, template in zip(axes[:, 0], templates, strict=True):
        block = table[table["evaluation_template"] == template].iloc[::-1]
        positions = range(len(block))
        for y, row in zip(positions, block.itertuples(index=False), strict=True):
            if pd.notna(row.ci95_low):
                axis.plot([row.ci95_low, row.ci95_high], [y, y], color="tab:blue", linewidth=2)
            if pd.notna(row.mean_diff):
                axis.plot(row.mean_diff, y, "o", color="tab:blue")
        axis.axvline(0, color="grey", linestyle="--", linewidth=1)
        axis.set_yticks(list(positions), [f"{row.label} (n={row.n})" for row in block.itertuples()])
        axis.set_title(f"{title} ({template})")
        axis.set_xlabel(xlabel)
        axis.grid(axis="x", alpha=0.3)
        if not len(block):
            axis.text(0.5, 0.5, "nothing to compare", ha="center", va="center")
    return _png(figure)


def paired_comparisons_forest(scores: pd.DataFrame) -> bytes:
    """Every pair of generation models: mean score difference on shared items, with its
    paired bootstrap 95% interval (the same numbers as paired_model_comparisons.csv)."""
    models = sorted(scores["generation_model"].dropna().unique())
    items = item_scores(scores)
    rows, labels = [], []
    for template in sorted(scores["evaluation_template"].dropna().unique()):
        for i, a in enumerate(models):
            for b in models[i + 1 :]:
                differences = paired_differences(items, template, a, b)
                low, high = bootstrap_mean_ci(differences)
                mean = float(differences.mean()) if len(differences) else float("nan")
                rows.append((template, mean, low, high, len(differences)))
                labels.append(f"{_short(a, 20)} - {_short(b, 20)}")
    table = pd.DataFrame(rows, columns=["evaluation_template", "mean_diff", "ci95_low",
                                        "ci95_high", "n"])  # fmt: skip
    return forest_plot(
        table, labels, "Paired model comparisons", "model_a - model_b (score points, 95% CI)"
    )


def cohort_forest(table: pd.DataFrame) -> bytes:
    """How each mean moved from cohort A to cohort B on shared items (compare's CSV)."""
    labels = [f"{row.dimension}: {_short(str(row.value), 28)}" for row in table.itertuples()]
    return forest_plot(
        table.rename(columns={"n_items": "n"}),
        labels,
        "Cohort B - cohort A on shared items",
        "mean score difference (B - A, 95% CI)",
    )
