"""The headline answer: reinvention rates, Wilson intervals (checked against scipy and a
textbook value) and the calibration controls' pass rates."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from .headline import (
    HEADLINE_COLUMNS,
    NOT_RUN,
    RUBRIC_TEMPLATE,
    calibration_pass_rates,
    headline,
    wilson_interval,
)


def test_wilson_interval_matches_scipy_and_the_textbook():
    for successes, n in [(0, 10), (3, 12), (7, 7), (40, 150)]:
        theirs = stats.binomtest(successes, n).proportion_ci(method="wilson")
        assert wilson_interval(successes, n) == pytest.approx((theirs.low, theirs.high))
    # Newcombe (1998), Table I: 0 of 10 -> 0 to 0.2775 (Wilson score interval).
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)
    assert all(np.isnan(v) for v in wilson_interval(0, 0))


def scores(rows):
    """(essay, model, judge, template, score) in the parsed-scores shape."""
    return pd.DataFrame(
        rows,
        columns=["generation_task_id", "generation_model", "evaluation_model",
                 "evaluation_template", "score"],
    )  # fmt: skip


def test_an_essay_is_reinvented_when_the_panel_mean_reaches_the_threshold():
    r = RUBRIC_TEMPLATE
    table = headline(
        scores(
            [
                ("e1", "a", "j1", r, 8.0), ("e1", "a", "j2", r, 6.0),  # panel 7.0: counts
                ("e2", "a", "j1", r, 9.0), ("e2", "a", "j2", r, 4.0),  # panel 6.5: does not
                ("e2", "a", "j2", r, 5.0),  # a second replicate of j2 (mean 4.5): panel 6.75
                ("e3", "a", "j1", r, None),  # no score: not an essay of the rate
                ("e4", "b", "j1", "creativity", 10.0),  # another template: ignored
            ]
        )  # fmt: skip
    ).set_index("generation_model")
    assert list(table.reset_index().columns) == HEADLINE_COLUMNS
    assert (table.at["a", "n_essays"], table.at["a", "n_reinvented"]) == (2, 1)
    assert table.at["a", "reinvention_rate"] == 0.5
    assert table.at["a", "mean_panel_score"] == pytest.approx((7.0 + 6.75) / 2)
    assert (table.at["a", "ci95_low"], table.at["a", "ci95_high"]) == pytest.approx(
        wilson_interval(1, 2)
    )
    assert table.at["b", "n_essays"] == 0 and np.isnan(table.at["b", "reinvention_rate"])
    assert (table["controls"] == NOT_RUN).all()


def test_calibration_controls_are_held_to_the_same_threshold():
    r = RUBRIC_TEMPLATE
    calibration = pd.DataFrame(
        [
            ("full_loop", r, "j1", 9.0), ("full_loop", r, "j2", 6.0),
            ("partial_no_feedback", r, "j1", 5.0), ("partial_no_feedback", r, "j2", 7.5),
            ("off_topic", r, "j1", 0.0), ("off_topic", r, "j2", None),
            ("off_topic", r, "retired_judge", 9.0),  # not on the current panel
            ("full_loop", "creativity", "j1", 1.0),
        ],
        columns=["control", "evaluation_template", "evaluation_model", "score"],
    )  # fmt: skip
    rates = calibration_pass_rates(calibration, ["j1", "j2"]).set_index("control")
    assert rates.at["full_loop", "panel_score"] == 7.5 and rates.at["full_loop", "panel_pass"]
    assert rates.at["full_loop", "judges_passing"] == 1
    assert rates.at["partial_no_feedback", "panel_pass"]  # 6.25 < 7
    assert rates.at["partial_no_feedback", "judge_pass_rate"] == 0.5
    assert rates.at["off_topic", "judges_passing"] == 1  # an unreadable score is no pass
    essays = scores([("e1", "a", "j1", r, 8.0), ("e1", "a", "j2", r, 8.0)])
    row = headline(essays, calibration).iloc[0]
    assert row.controls_pass_rate == pytest.approx(3 / 6)
    assert row.controls.startswith("panel right on 3 of 3 controls (full_loop 7.5")
