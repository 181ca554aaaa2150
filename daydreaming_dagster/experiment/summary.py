"""Score summaries: the numbers a researcher reads first."""

from __future__ import annotations

import pandas as pd

from .statistics import HIGH_SCORE, best_first, bootstrap_mean_ci, per_generation

SUMMARY_DIMENSIONS = {
    "by_generation_model": "generation_model",
    "by_generation_template": "generation_template",
    "by_combination": "combo_id",
    "by_evaluation_template": "evaluation_template",
    "by_evaluation_model": "evaluation_model",
}
STAT_COLUMNS = [
    "n_tasks",
    "n_scored",
    "n_missing",
    "n_stale",
    "n_errors",
    "mean",
    "ci95_low",
    "ci95_high",
    "std",
    "min",
    "max",
    "n_high",
]
MISSING_PREFIX = "no evaluation response"


def _stats(group: pd.DataFrame) -> pd.Series:
    scores = group["score"].dropna()
    # Judges' scores of one generation are not independent draws: the interval resamples
    # generations (each at its mean over judges), not individual scores.
    per_generation = group.dropna(subset=["score"]).groupby("generation_task_id")["score"].mean()
    ci_low, ci_high = bootstrap_mean_ci(per_generation.to_numpy())
    if "state" in group.columns:
        missing = int((group["state"] == "to do").sum())
        stale = int((group["state"] == "stale").sum())
    else:  # a table from before task states: only missing answers are marked, by their error
        errors = group["error"].astype("string")
        missing, stale = int(errors.str.startswith(MISSING_PREFIX).fillna(False).sum()), 0
    return pd.Series(
        {
            "n_tasks": len(group),
            "n_scored": len(scores),
            "n_missing": missing,
            "n_stale": stale,
            "n_errors": int(group["score"].isna().sum()) - missing - stale,
            # The mean over essays of each essay's mean over judges: the quantity the interval
            # resamples (a plain mean of answers would weigh essays by how many judges scored).
            "mean": per_generation.mean() if len(per_generation) else float("nan"),
            "ci95_low": ci_low,
            "ci95_high": ci_high,
            "std": scores.std(ddof=1) if len(scores) > 1 else float("nan"),
            "min": scores.min() if len(scores) else float("nan"),
            "max": scores.max() if len(scores) else float("nan"),
            "n_high": int((scores >= HIGH_SCORE).sum()),
        }
    )


def summarize(scores: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """count, mean with its 95% bootstrap interval (``ci95_low``..``ci95_high``, resampling
    generations), std, min, max and how many scored >= 8, per group in ``by``. ``mean`` is
    the mean over generations of each one's mean over judges; std, min and max are over the
    single judge scores.

    Answers not yet produced count in ``n_missing``, stale ones (made from other inputs) in
    ``n_stale``, unparseable ones in ``n_errors``; none of them ever enters the statistics.
    """
    if scores.empty:
        return pd.DataFrame(columns=[*by, *STAT_COLUMNS])
    columns = ["score", "error", "generation_task_id"]
    if "state" in scores.columns:
        columns.append("state")
    table = scores.groupby(by, sort=True)[columns].apply(_stats).reset_index()
    for column in ("n_tasks", "n_scored", "n_missing", "n_stale", "n_errors", "n_high"):
        table[column] = table[column].astype(int)
    return table[[*by, *STAT_COLUMNS]]


def all_summaries(scores: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One table per dimension. Generation-side tables are split by evaluation template,
    because a rubric score and a creativity score are not the same quantity."""
    tables = {}
    for name, column in SUMMARY_DIMENSIONS.items():
        by = [column] if column == "evaluation_template" else ["evaluation_template", column]
        tables[name] = summarize(scores, by)
    return tables


def top_responses(scores: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """Generations with the highest mean score per evaluation template, with file paths."""
    columns = [
        "evaluation_template",
        "generation_task_id",
        "combo_id",
        "generation_template",
        "generation_model",
        "mean_score",
        "n_judges",
        "generation_response_path",
    ]
    ranked = best_first(per_generation(scores))
    return ranked.groupby("evaluation_template").head(n).reset_index(drop=True)[columns]


def to_markdown(table: pd.DataFrame, max_rows: int = 40) -> str:
    """A markdown table (numbers to 2 decimals) for Dagster metadata; no extra dependency."""
    if table.empty:
        return "_no rows_"
    shown = table.head(max_rows)
    header = "| " + " | ".join(str(c) for c in shown.columns) + " |"
    rule = "| " + " | ".join("---" for _ in shown.columns) + " |"

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.2f}"
        return str(value).replace("|", "\\|")

    rows = ["| " + " | ".join(cell(v) for v in row) + " |" for row in shown.itertuples(index=False)]
    more = (
        [f"\n_{len(table) - max_rows} more rows in the CSV file_"] if len(table) > max_rows else []
    )
    return "\n".join([header, rule, *rows, *more])
