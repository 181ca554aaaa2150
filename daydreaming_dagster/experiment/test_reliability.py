"""Judge reliability against values computed independently: Krippendorff's own worked example
and the ``krippendorff`` package itself."""

import krippendorff
import numpy as np
import pandas as pd
import pytest

from . import reliability
from .reliability import (
    _alpha_from_terms,
    _unit_terms,
    bootstrap_alpha_ci,
    interval_alpha,
    judge_reliability,
    judge_vs_human,
    pairable,
    reliability_verdict,
)

NAN = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four observers,
# twelve units, missing values. The paper gives alpha = 0.849 for interval data.
WORKED_EXAMPLE = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)


def test_interval_alpha_of_krippendorffs_worked_example():
    assert interval_alpha(WORKED_EXAMPLE) == pytest.approx(0.849, abs=0.0005)


def test_the_formula_on_unit_sums_equals_the_package(monkeypatch):
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(100):
        data = np.round(rng.uniform(0, 10, (rng.integers(2, 5), rng.integers(3, 40))) * 2) / 2
        data[rng.uniform(size=data.shape) < 0.25] = NAN
        kept = pairable(data)
        if kept.shape[1] == 0 or np.unique(kept[~np.isnan(kept)]).size < 2:
            continue
        package = krippendorff.alpha(reliability_data=kept, level_of_measurement="interval")
        assert _alpha_from_terms(_unit_terms(kept).sum(axis=0)) == pytest.approx(package, abs=1e-9)
        checked += 1
    assert checked > 80
    # Large data take the formula's path: the same number.
    monkeypatch.setattr(reliability, "PACKAGE_CELLS", 0)
    assert interval_alpha(WORKED_EXAMPLE) == pytest.approx(0.849, abs=0.0005)


def test_the_bootstrap_is_the_package_on_resampled_units():
    low, high = bootstrap_alpha_ci(WORKED_EXAMPLE)
    # The same draws (one block), each resample computed by the package.
    units = pairable(WORKED_EXAMPLE)
    picks = np.random.default_rng(0).integers(0, units.shape[1], (reliability.ALPHA_RESAMPLES,
                                                                 units.shape[1]))  # fmt: skip
    alphas = []
    for pick in picks:
        resample = units[:, pick]
        if np.unique(resample[~np.isnan(resample)]).size > 1:
            alphas.append(krippendorff.alpha(reliability_data=resample))
    expected = np.percentile(alphas, [2.5, 97.5])
    assert (low, high) == pytest.approx(tuple(expected), abs=1e-9)
    assert low < interval_alpha(WORKED_EXAMPLE) < high


def test_undefined_alpha_is_nan():
    assert np.isnan(interval_alpha(np.array([[5.0, 5.0], [5.0, 5.0]])))  # no variation
    assert np.isnan(interval_alpha(np.array([[1.0, NAN], [NAN, 2.0]])))  # nothing pairable
    assert all(np.isnan(bootstrap_alpha_ci(np.array([[1.0], [2.0]]))))


def parsed(rows: list[tuple[str, str, str, float | None]]) -> pd.DataFrame:
    """(evaluation template, essay, judge, score) in the parsed-scores shape."""
    return pd.DataFrame(
        [
            {
                "evaluation_template": t,
                "generation_task_id": g,
                "evaluation_model": j,
                "score": s,
                "generation_answer_sha256": f"sha-{g}",
            }
            for t, g, j, s in rows
        ]
    )


def test_judge_reliability_per_template_uses_essays_as_units():
    rows = []
    for unit, column in enumerate(WORKED_EXAMPLE.T):
        for coder, value in enumerate(column):
            rows.append(("rubric", f"g{unit}", f"judge{coder}", None if np.isnan(value) else value))
    rows.append(("other", "g0", "judge0", 3.0))  # one judge only: nothing pairable
    table = judge_reliability(parsed(rows)).set_index("evaluation_template")
    assert table.at["rubric", "alpha"] == pytest.approx(0.849, abs=0.0005)
    assert table.at["rubric", "n_items"] == 11  # unit 12 has a single value
    assert table.at["rubric", "n_judges"] == 4
    assert table.at["rubric", "ci95_low"] < 0.849 < table.at["rubric", "ci95_high"]
    assert table.at["other", "n_items"] == 0 and np.isnan(table.at["other", "alpha"])
    assert list(judge_reliability(parsed(rows)).columns) == [
        "evaluation_template", "n_items", "n_judges", "alpha", "ci95_low", "ci95_high"
    ]  # fmt: skip


def test_judge_vs_human_offsets_and_alpha():
    human_scores = [2.0, 4.0, 5.0, 7.0, 9.0]
    rows = [("rubric", f"g{i}", "generous", s + 1) for i, s in enumerate(human_scores)]
    rows += [("rubric", f"g{i}", "exact", s) for i, s in enumerate(human_scores)]
    rows.append(("rubric", "g9", "exact", 3.0))  # no human score: not an item
    human = pd.DataFrame(
        {
            "generation_task_id": [f"g{i}" for i in range(5)] + ["g0"],
            "evaluation_template": "rubric",
            "score": human_scores + [2.0],  # g0 scored twice by people: their mean counts
            "generation_answer_sha256": [f"sha-g{i}" for i in range(5)] + ["sha-g0"],
        }
    )
    table = judge_vs_human(parsed(rows), human).set_index("judge")
    assert table.at["exact", "n_items"] == 5 and table.at["exact", "alpha"] == pytest.approx(1.0)
    assert table.at["generous", "mean_offset"] == pytest.approx(1.0)
    assert (table.at["generous", "ci95_low"], table.at["generous", "ci95_high"]) == (1.0, 1.0)
    # Two coders, no missing data: alpha = 1 - (n - 1) * sum of squared differences within
    # units / sum over all ordered pairs of values of their squared difference.
    values = np.concatenate([np.array(human_scores) + 1, human_scores])
    within = 2 * np.sum(np.ones(5) ** 2)
    between = np.sum((values[:, None] - values[None, :]) ** 2)
    assert table.at["generous", "alpha"] == pytest.approx(1 - (10 - 1) * within / between)


def test_a_human_score_of_another_answer_is_not_compared():
    rows = [("rubric", "g1", "j", 5.0), ("rubric", "g2", "j", 6.0)]
    human = pd.DataFrame(
        {
            "generation_task_id": ["g1", "g2"],
            "evaluation_template": "rubric",
            "score": [5.0, 6.0],
            "generation_answer_sha256": ["sha-g1", "an older answer"],
        }
    )
    table = judge_vs_human(parsed(rows), human)
    assert table["n_items"].tolist() == [1]


def test_the_verdict_follows_krippendorffs_thresholds():
    assert "trust a mean" in reliability_verdict(0.85)
    assert "tentative" in reliability_verdict(0.7)
    assert "do not agree" in reliability_verdict(0.3)
    assert "undefined" in reliability_verdict(float("nan"))
