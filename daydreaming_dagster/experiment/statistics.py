"""How sure the numbers are: confidence intervals, judge agreement and judge bias.

LLM judges are noisy and disagree, so a mean alone can mislead. These functions take the
parsed-scores table (one row per evaluation task; ``score`` empty when there is none) and are
pure, so they are tested without Dagster.
"""

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_BLOCK = 500_000  # values drawn at once (4 MB)
HIGH_SCORE = 8.0
ITEM = ["evaluation_template", "generation_task_id"]


def bootstrap_mean_ci(
    values: np.ndarray, confidence: float = CONFIDENCE, resamples: int = BOOTSTRAP_RESAMPLES
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; NaN for fewer than two values.

    Seeded, so the same scores always give the same interval.
    """
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(0)
    # In blocks of resamples: one (resamples x n) draw held 10,000 x 4,950 indices and values,
    # about 800 MB, at 24,750 tasks. Successive draws from the same generator give exactly the
    # same numbers as the single draw did.
    rows = max(1, BOOTSTRAP_BLOCK // len(values))
    means = np.concatenate(
        [
            rng.choice(values, size=(min(rows, resamples - start), len(values))).mean(axis=1)
            for start in range(0, resamples, rows)
        ]
    )
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def judge_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per judged item (evaluation template, generation), one column per judge."""
    scored = scores.dropna(subset=["score"])
    return scored.pivot_table(
        index=ITEM, columns="evaluation_model", values="score", aggfunc="mean"
    )


def judge_agreement(scores: pd.DataFrame) -> pd.DataFrame:
    """Spearman rank correlation of every pair of judges on the generations both scored,
    per evaluation template; ``n_items`` says how many generations the figure rests on."""
    columns = ["evaluation_template", "judge_a", "judge_b", "n_items", "spearman"]
    rows = []
    matrix = judge_matrix(scores)
    if matrix.empty:
        return pd.DataFrame(columns=columns)
    for template, block in matrix.groupby(level="evaluation_template"):
        judges = sorted(block.columns[block.notna().any()])
        for i, a in enumerate(judges):
            for b in judges[i + 1 :]:
                pair = block[[a, b]].dropna()
                # Spearman's rho is Pearson's r on average ranks (ties share a rank).
                ranks = pair.rank()
                rho = ranks[a].corr(ranks[b]) if len(pair) >= 3 else float("nan")
                rows.append(
                    {
                        "evaluation_template": template,
                        "judge_a": a,
                        "judge_b": b,
                        "n_items": len(pair),
                        "spearman": float(rho) if pd.notna(rho) else float("nan"),
                    }
                )
    return pd.DataFrame(rows, columns=columns)


def judge_bias(scores: pd.DataFrame) -> pd.DataFrame:
    """Each judge's mean offset from the other judges' mean on the same generations: positive
    means it scores more generously than its peers."""
    columns = ["evaluation_template", "judge", "n_items", "mean_offset", "ci95_low", "ci95_high"]
    rows = []
    matrix = judge_matrix(scores)
    for template, block in matrix.groupby(level="evaluation_template"):
        for judge in sorted(block.columns):
            others = block.drop(columns=judge)
            if others.empty:
                continue
            offsets = (block[judge] - others.mean(axis=1)).dropna().to_numpy()
            low, high = bootstrap_mean_ci(offsets)
            rows.append(
                {
                    "evaluation_template": template,
                    "judge": judge,
                    "n_items": len(offsets),
                    "mean_offset": float(offsets.mean()) if len(offsets) else float("nan"),
                    "ci95_low": low,
                    "ci95_high": high,
                }
            )
    return pd.DataFrame(rows, columns=columns)


def per_generation(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per judged generation and evaluation template: how many judges scored it, their
    lowest and mean score, and where the answer is."""
    columns = [
        *ITEM,
        "combo_id",
        "generation_template",
        "generation_model",
        "n_judges",
        "min_score",
        "mean_score",
        "generation_response_path",
    ]
    scored = scores.dropna(subset=["score"])
    if scored.empty:
        return pd.DataFrame(columns=columns)
    grouped = scored.groupby(ITEM).agg(
        combo_id=("combo_id", "first"),
        generation_template=("generation_template", "first"),
        generation_model=("generation_model", "first"),
        n_judges=("evaluation_model", "nunique"),
        min_score=("score", "min"),
        mean_score=("score", "mean"),
        generation_response_path=("generation_response_path", "first"),
    )
    return grouped.reset_index()[columns]


def best_first(table: pd.DataFrame) -> pd.DataFrame:
    """Per evaluation template, highest mean score first (ties by generation id)."""
    ordered = table.sort_values(
        ["evaluation_template", "mean_score", "generation_task_id"], ascending=[True, False, True]
    )
    return ordered.reset_index(drop=True)


def consensus_high(scores: pd.DataFrame, threshold: float = HIGH_SCORE) -> pd.DataFrame:
    """Generations that every judge who scored them rated at least ``threshold`` (two judges at
    least), with the path of the answer, per evaluation template."""
    columns = [
        "evaluation_template",
        "generation_task_id",
        "generation_model",
        "generation_template",
        "combo_id",
        "n_judges",
        "min_score",
        "mean_score",
        "generation_response_path",
    ]
    table = per_generation(scores)
    chosen = table[(table["n_judges"] >= 2) & (table["min_score"] >= threshold)]
    return best_first(chosen)[columns]


def replicate_spread(scores: pd.DataFrame) -> pd.DataFrame:
    """How much repeated generations of the same task differ: per (evaluation template, model,
    template, combination), each generation replicate's mean score over judges, then the mean
    and the spread (std, min, max) of those replicate means."""
    keys = ["evaluation_template", "generation_model", "generation_template", "combo_id"]
    columns = [*keys, "n_replicates", "mean", "std_between_replicates", "min", "max"]
    scored = scores.dropna(subset=["score"])
    if scored.empty or "generation_replicate" not in scored.columns:
        return pd.DataFrame(columns=columns)
    per_replicate = scored.groupby([*keys, "generation_replicate"])["score"].mean()
    table = (
        per_replicate.groupby(level=keys)
        .agg(
            n_replicates="count",
            mean="mean",
            std_between_replicates=lambda v: v.std(ddof=1) if len(v) > 1 else float("nan"),
            min="min",
            max="max",
        )
        .reset_index()
    )
    return table[columns]
