"""Do the judges agree well enough to average them? Krippendorff's alpha (interval) per
evaluation template, and each LLM judge against the human reviewers.

Units are essays (generation tasks), coders are judges, values are scores (a judge's
evaluation replicates of one essay are averaged first). Intervals resample essays, never
single judge answers, because the answers about one essay are not independent.
"""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd

from .statistics import CONFIDENCE, bootstrap_mean_ci

ALPHA_RESAMPLES = 2_000
ALPHA_BLOCK = 250_000  # resample weights held at once (2 MB; with the draws, about 8 MB)
# The package holds units x values^2 floats several times over: 400 MB each at 4,950 essays
# with 101 distinct scores. Above this many cells the same formula runs on per-unit sums.
PACKAGE_CELLS = 2_000_000
# Krippendorff (2004, Content Analysis, 2nd ed., p. 241): rely on variables with alpha >= .800;
# .667 <= alpha < .800 allows tentative conclusions only; below .667 the data are not reliable.
TRUST_ALPHA = 0.800
TENTATIVE_ALPHA = 0.667
RELIABILITY_COLUMNS = [
    "evaluation_template", "n_items", "n_judges", "alpha", "ci95_low", "ci95_high"
]  # fmt: skip
JUDGE_VS_HUMAN_COLUMNS = [
    "evaluation_template",
    "judge",
    "n_items",
    "alpha",
    "alpha_ci95_low",
    "alpha_ci95_high",
    "mean_offset",
    "ci95_low",
    "ci95_high",
]
UNIT = "generation_task_id"
CODER = "evaluation_model"


def coder_matrix(scores: pd.DataFrame, template: str) -> pd.DataFrame:
    """Essays x judges for one evaluation template: each judge's mean score of each essay."""
    scored = scores[(scores["evaluation_template"] == template) & scores["score"].notna()]
    return scored.pivot_table(index=UNIT, columns=CODER, values="score", aggfunc="mean")


def pairable(data: np.ndarray) -> np.ndarray:
    """(coders x units) restricted to the units at least two coders scored: only those carry
    information about agreement (Krippendorff drops the others too)."""
    return data[:, (~np.isnan(data)).sum(axis=0) >= 2]


def interval_alpha(data: np.ndarray) -> float:
    """Krippendorff's interval alpha of a (coders x units) array, NaN marking a missing score;
    NaN when it is undefined (no pairable unit, or one single value in all the data).

    Computed by the ``krippendorff`` package, unless that would need more than
    ``PACKAGE_CELLS`` cells of memory per array; then by ``_alpha_from_terms`` (a unit test
    holds the two equal)."""
    data = pairable(np.asarray(data, dtype=float))
    values = data[~np.isnan(data)]
    distinct = np.unique(values).size
    if data.shape[1] == 0 or distinct < 2:
        return float("nan")
    if data.shape[1] * distinct**2 <= PACKAGE_CELLS:
        return float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))
    return float(_alpha_from_terms(_unit_terms(data).sum(axis=0)))


def _unit_terms(data: np.ndarray) -> np.ndarray:
    """Per unit: pairable values m, their sum, their sum of squares, and the unit's observed
    disagreement sum over ordered pairs of its values of (v_i - v_j)^2 / (m - 1).

    Interval alpha is 1 - (n - 1) * sum(disagreement) / (2 * (n * sum(v^2) - sum(v)^2)) with
    n = sum(m), and every sum is over units: a resample of units is a weighted sum of these rows.
    """
    present = ~np.isnan(data)
    m = present.sum(axis=0).astype(float)
    filled = np.where(present, data, 0.0)
    total, squares = filled.sum(axis=0), (filled**2).sum(axis=0)
    disagreement = 2 * (m * squares - total**2) / (m - 1)
    return np.stack([m, total, squares, disagreement], axis=1)


def _alpha_from_terms(sums: np.ndarray) -> np.ndarray:
    """Interval alpha from summed ``_unit_terms`` (the last axis); NaN where undefined."""
    m, total, squares, disagreement = np.moveaxis(sums, -1, 0)
    expected = 2 * (m * squares - total**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1 - (m - 1) * disagreement / expected, np.nan)


def bootstrap_alpha_ci(
    data: np.ndarray, confidence: float = CONFIDENCE, resamples: int = ALPHA_RESAMPLES
) -> tuple[float, float]:
    """Percentile interval of interval alpha over resamples of units (essays), seeded.

    The ``krippendorff`` package has no weighted entry point and costs units x values^2 per
    call (1.2 s at 4,950 essays with 101 distinct scores), so resamples use the same formula
    on per-unit sums (``_unit_terms``); a unit test holds it equal to the package.
    """
    data = pairable(np.asarray(data, dtype=float))
    units = data.shape[1]
    if units < 2:
        return float("nan"), float("nan")
    terms = _unit_terms(data)
    rng = np.random.default_rng(0)
    rows = max(1, ALPHA_BLOCK // units)
    alphas = []
    for start in range(0, resamples, rows):
        count = min(rows, resamples - start)
        picks = rng.integers(0, units, size=(count, units))
        flat = (picks + units * np.arange(count)[:, None]).ravel()
        weights = np.bincount(flat, minlength=count * units).reshape(count, units)
        alphas.append(_alpha_from_terms(weights @ terms))
    alphas = np.concatenate(alphas)
    alphas = alphas[~np.isnan(alphas)]
    if len(alphas) == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(alphas, [tail, 100 - tail])
    return float(low), float(high)


def judge_reliability(scores: pd.DataFrame) -> pd.DataFrame:
    """Krippendorff's interval alpha across all judges, one row per evaluation template, with
    a bootstrap 95% interval over essays. ``n_items`` counts the essays two or more judges
    scored (the only ones alpha uses); ``n_judges`` the judges with any score."""
    rows = []
    for template in sorted(scores["evaluation_template"].dropna().unique()):
        matrix = coder_matrix(scores, template)
        data = matrix.to_numpy(dtype=float).T  # coders x units
        low, high = bootstrap_alpha_ci(data)
        rows.append(
            {
                "evaluation_template": template,
                "n_items": int(pairable(data).shape[1]) if data.size else 0,
                "n_judges": int(matrix.notna().any().sum()),
                "alpha": interval_alpha(data) if data.size else float("nan"),
                "ci95_low": low,
                "ci95_high": high,
            }
        )
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)


def reliability_verdict(alpha: float) -> str:
    """Whether a mean of the judges' scores can be trusted, by Krippendorff's thresholds."""
    if np.isnan(alpha):
        return "alpha is undefined (too few essays scored by two judges, or no variation)"
    if alpha >= TRUST_ALPHA:
        return f"the judges agree enough to trust a mean (alpha >= {TRUST_ALPHA:.3f})"
    if alpha >= TENTATIVE_ALPHA:
        return (
            f"tentative only: {TENTATIVE_ALPHA:.3f} <= alpha < {TRUST_ALPHA:.3f}; read a mean "
            "as a rough indication"
        )
    return f"the judges do not agree enough to trust a mean (alpha < {TENTATIVE_ALPHA:.3f})"


def reliability_lines(table: pd.DataFrame) -> list[str]:
    """One markdown bullet per evaluation template for summary.md."""
    lines = []
    for row in table.itertuples(index=False):
        interval = (
            f" (95% CI {row.ci95_low:.2f} to {row.ci95_high:.2f})"
            if not np.isnan(row.ci95_low)
            else ""
        )
        alpha = "n/a" if np.isnan(row.alpha) else f"{row.alpha:.2f}"
        lines.append(
            f"- {row.evaluation_template}: alpha {alpha}{interval} over {row.n_items} essays and "
            f"{row.n_judges} judges: {reliability_verdict(row.alpha)}."
        )
    return lines


def human_essay_scores(human: pd.DataFrame) -> pd.DataFrame:
    """Mean human score per (essay, evaluation template, answer read)."""
    keys = [UNIT, "evaluation_template", "generation_answer_sha256"]
    if human.empty:
        return pd.DataFrame(columns=[*keys, "human"])
    return human.groupby(keys, as_index=False)["score"].mean().rename(columns={"score": "human"})


def judge_vs_human(scores: pd.DataFrame, human: pd.DataFrame) -> pd.DataFrame:
    """Each LLM judge against the human reviewers, per evaluation template the humans used.

    An item is an essay both scored, and only when the judge read the same answer the human
    did (``generation_answer_sha256``). alpha treats the judge and the humans' mean as two
    coders; ``mean_offset`` is judge minus human, with a bootstrap 95% interval over essays.
    """
    rows = []
    people = human_essay_scores(human)
    scored = scores[scores["score"].notna()]
    for template in sorted(people["evaluation_template"].unique()):
        block = scored[scored["evaluation_template"] == template]
        judged = block.groupby([UNIT, CODER, "generation_answer_sha256"], as_index=False)[
            "score"
        ].mean()
        mine = people[people["evaluation_template"] == template]
        both = judged.merge(mine, on=[UNIT, "generation_answer_sha256"])
        for judge in sorted(scores.loc[scores["evaluation_template"] == template, CODER].unique()):
            pair = both[both[CODER] == judge]
            data = pair[["score", "human"]].to_numpy(dtype=float).T
            offsets = (pair["score"] - pair["human"]).to_numpy(dtype=float)
            alpha_low, alpha_high = bootstrap_alpha_ci(data)
            low, high = bootstrap_mean_ci(offsets)
            rows.append(
                {
                    "evaluation_template": template,
                    "judge": judge,
                    "n_items": len(pair),
                    "alpha": interval_alpha(data) if len(pair) else float("nan"),
                    "alpha_ci95_low": alpha_low,
                    "alpha_ci95_high": alpha_high,
                    "mean_offset": float(offsets.mean()) if len(offsets) else float("nan"),
                    "ci95_low": low,
                    "ci95_high": high,
                }
            )
    return pd.DataFrame(rows, columns=JUDGE_VS_HUMAN_COLUMNS)
