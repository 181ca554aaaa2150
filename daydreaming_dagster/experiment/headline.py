"""The headline answer: how often does each generator reinvent the daydreaming loop, and can
the judges tell the real idea from a decoy?

An essay counts as a reinvention when the judge panel's score on the daydreaming-loop rubric
(the mean over judges of each judge's mean score of that essay) is at least
``REINVENTION_THRESHOLD``. The calibration controls are held to the same threshold: the
full-loop control should reach it, every decoy should stay below it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .statistics import CONFIDENCE

RUBRIC_TEMPLATE = "daydreaming_loop_rubric"
# 7 of 10 on the rubric: full credit on the loop itself (background combination, critic,
# feedback: 6 points) plus part of the puzzle or the economics. The control that has the loop
# without its feedback is expected at 4-6, so it stays below; the full loop is expected at 9-10.
REINVENTION_THRESHOLD = 7.0
FULL_LOOP_CONTROL = "full_loop"
NOT_RUN = "not run: add --calibrate"
HEADLINE_COLUMNS = [
    "generation_model",
    "evaluation_template",
    "threshold",
    "n_essays",
    "n_reinvented",
    "reinvention_rate",
    "ci95_low",
    "ci95_high",
    "mean_panel_score",
    "controls_pass_rate",
    "controls",
]
CALIBRATION_COLUMNS = [
    "control",
    "expected",
    "threshold",
    "n_judges",
    "panel_score",
    "panel_pass",
    "judges_passing",
    "judge_pass_rate",
]


def panel_scores(scores: pd.DataFrame, template: str = RUBRIC_TEMPLATE) -> pd.DataFrame:
    """One row per essay scored on ``template``: its generator, how many judges scored it, and
    the panel score (mean over judges of each judge's mean over evaluation replicates)."""
    columns = ["generation_task_id", "generation_model", "n_judges", "panel_score"]
    scored = scores[(scores["evaluation_template"] == template) & scores["score"].notna()]
    if scored.empty:
        return pd.DataFrame(columns=columns)
    per_judge = scored.groupby(["generation_task_id", "generation_model", "evaluation_model"])[
        "score"
    ].mean()
    panel = per_judge.groupby(level=["generation_task_id", "generation_model"]).agg(
        n_judges="count", panel_score="mean"
    )
    return panel.reset_index()[columns]


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion (statsmodels); NaN for n = 0."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    return float(low), float(high)


def calibration_pass_rates(
    calibration: pd.DataFrame | None,
    judges: list[str] | None = None,
    template: str = RUBRIC_TEMPLATE,
    threshold: float = REINVENTION_THRESHOLD,
) -> pd.DataFrame:
    """Per calibration control: whether the panel (and each judge) puts it on the right side
    of the threshold. Only the judges in ``judges`` count (the current panel); an unreadable
    score counts as a wrong verdict."""
    if calibration is None or calibration.empty:
        return pd.DataFrame(columns=CALIBRATION_COLUMNS)
    block = calibration[calibration["evaluation_template"] == template]
    if judges is not None:
        block = block[block["evaluation_model"].isin(judges)]
    rows = []
    for control, group in block.groupby("control", sort=True):
        per_judge = group.groupby("evaluation_model")["score"].mean()
        reinvention = control == FULL_LOOP_CONTROL
        right = per_judge >= threshold if reinvention else per_judge < threshold
        panel = float(per_judge.mean()) if per_judge.notna().any() else float("nan")
        panel_right = (panel >= threshold) if reinvention else (panel < threshold)
        rows.append(
            {
                "control": control,
                "expected": "reinvented" if reinvention else "not reinvented",
                "threshold": threshold,
                "n_judges": len(per_judge),
                "panel_score": panel,
                "panel_pass": bool(panel_right and not np.isnan(panel)),
                "judges_passing": int((right & per_judge.notna()).sum()),
                "judge_pass_rate": float((right & per_judge.notna()).mean()),
            }
        )
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)


def controls_summary(controls: pd.DataFrame) -> tuple[float, str]:
    """The share of right (judge, control) verdicts, and one line a reader takes in at once."""
    if controls.empty:
        return float("nan"), NOT_RUN
    verdicts = int(controls["n_judges"].sum())
    rate = float(controls["judges_passing"].sum() / verdicts) if verdicts else float("nan")
    text = f"panel right on {int(controls['panel_pass'].sum())} of {len(controls)} controls"
    full = controls[controls["control"] == FULL_LOOP_CONTROL]
    decoys = controls[controls["control"] != FULL_LOOP_CONTROL].dropna(subset=["panel_score"])
    details = []
    if len(full):
        details.append(f"{FULL_LOOP_CONTROL} {full['panel_score'].iloc[0]:.1f}")
    if len(decoys):
        top = decoys.sort_values("panel_score").iloc[-1]
        details.append(f"highest decoy {top['control']} {top['panel_score']:.1f}")
    judges = int(controls["n_judges"].max())
    return rate, f"{text} ({', '.join([*details, f'{judges} judges'])})"


def headline(
    scores: pd.DataFrame,
    calibration: pd.DataFrame | None = None,
    template: str = RUBRIC_TEMPLATE,
    threshold: float = REINVENTION_THRESHOLD,
) -> pd.DataFrame:
    """One row per generation model: its reinvention rate with a Wilson 95% interval, and
    (the same in every row) the calibration controls' pass rate at the same threshold."""
    panel = panel_scores(scores, template)
    judges = sorted(scores["evaluation_model"].dropna().unique())
    rate, text = controls_summary(calibration_pass_rates(calibration, judges, template, threshold))
    rows = []
    for model in sorted(scores["generation_model"].dropna().unique()):
        essays = panel[panel["generation_model"] == model]["panel_score"]
        hits = int((essays >= threshold).sum())
        low, high = wilson_interval(hits, len(essays))
        rows.append(
            {
                "generation_model": model,
                "evaluation_template": template,
                "threshold": threshold,
                "n_essays": len(essays),
                "n_reinvented": hits,
                "reinvention_rate": hits / len(essays) if len(essays) else float("nan"),
                "ci95_low": low,
                "ci95_high": high,
                "mean_panel_score": float(essays.mean()) if len(essays) else float("nan"),
                "controls_pass_rate": rate,
                "controls": text,
            }
        )
    return pd.DataFrame(rows, columns=HEADLINE_COLUMNS)


def headline_note(threshold: float = REINVENTION_THRESHOLD, template: str = RUBRIC_TEMPLATE) -> str:
    """The sentence under the headline table in summary.md."""
    return (
        f"An essay counts as reinvented when the judges' mean score on {template} is at least "
        f"{threshold:g} of 10 (full credit on the loop's mechanism, 6 points, plus part of the "
        "puzzle or the economics); ci95 is a Wilson interval over essays. The controls are held "
        f"to the same line: {FULL_LOOP_CONTROL} should reach it, every decoy stay below it "
        "(controls_pass_rate: the share of judge x control verdicts that do)."
    )
