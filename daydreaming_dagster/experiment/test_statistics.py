import numpy as np
import pandas as pd
import pytest

from .statistics import (
    CONFIDENCE,
    bootstrap_mean_ci,
    consensus_high,
    judge_agreement,
    judge_bias,
)


def scores_table(rows: list[tuple[str, str, str, float | None]]) -> pd.DataFrame:
    """(evaluation template, generation task, judge, score) rows in the parsed-scores shape."""
    return pd.DataFrame(
        [
            {
                "evaluation_template": template,
                "generation_task_id": task,
                "evaluation_model": judge,
                "score": score,
                "generation_model": "gen",
                "generation_template": "tpl",
                "combo_id": "combo_001",
                "generation_response_path": f"data/03_generation/generation_responses/{task}.txt",
            }
            for template, task, judge, score in rows
        ]
    )


def test_bootstrap_interval_brackets_the_mean_and_narrows_with_more_data():
    rng = np.random.default_rng(1)
    small = rng.normal(6, 2, 10)
    large = rng.normal(6, 2, 400)
    low_s, high_s = bootstrap_mean_ci(small)
    low_l, high_l = bootstrap_mean_ci(large)
    assert low_s < small.mean() < high_s
    assert low_l < large.mean() < high_l
    assert (high_l - low_l) < (high_s - low_s)
    assert bootstrap_mean_ci(small) == (low_s, high_s)  # seeded: reproducible


def test_an_interval_needs_two_scores():
    assert all(np.isnan(v) for v in bootstrap_mean_ci(np.array([7.0])))
    assert all(np.isnan(v) for v in bootstrap_mean_ci(np.array([7.0, np.nan])))


def test_judges_that_rank_alike_agree_and_a_generous_judge_shows_its_offset():
    rows = []
    for i, score in enumerate([2, 4, 5, 7, 9]):
        rows.append(("rubric", f"g{i}", "strict", float(score)))
        rows.append(("rubric", f"g{i}", "generous", float(min(10, score + 1))))
    agreement = judge_agreement(scores_table(rows))
    assert agreement.loc[0, ["judge_a", "judge_b"]].tolist() == ["generous", "strict"]
    assert agreement.loc[0, "n_items"] == 5
    assert agreement.loc[0, "spearman"] == pytest.approx(1.0)
    bias = judge_bias(scores_table(rows)).set_index("judge")
    assert bias.at["generous", "mean_offset"] == pytest.approx(1.0)
    assert bias.at["strict", "mean_offset"] == pytest.approx(-1.0)
    assert bias.at["strict", "n_items"] == 5


def test_missing_scores_are_left_out_not_counted_as_zero():
    rows = [
        ("rubric", "g1", "a", 8.0),
        ("rubric", "g1", "b", None),
        ("rubric", "g2", "a", 3.0),
        ("rubric", "g2", "b", 3.0),
    ]
    bias = judge_bias(scores_table(rows)).set_index("judge")
    assert bias.at["a", "n_items"] == 1 and bias.at["a", "mean_offset"] == 0.0


def test_consensus_needs_every_judge_high_and_at_least_two_judges():
    rows = [
        ("rubric", "both_high", "a", 9.0),
        ("rubric", "both_high", "b", 8.0),
        ("rubric", "one_low", "a", 9.0),
        ("rubric", "one_low", "b", 6.0),
        ("rubric", "single_judge", "a", 10.0),
    ]
    high = consensus_high(scores_table(rows))
    assert high["generation_task_id"].tolist() == ["both_high"]
    assert high.loc[0, "min_score"] == 8.0 and high.loc[0, "n_judges"] == 2
    assert high.loc[0, "generation_response_path"].endswith("both_high.txt")


def test_replicate_spread_is_the_spread_of_replicate_means():
    from .statistics import replicate_spread

    table = scores_table(
        [
            ("rubric", "g_r1", "a", 4.0),
            ("rubric", "g_r1", "b", 6.0),
            ("rubric", "g_r2", "a", 8.0),
            ("rubric", "g_r2", "b", 8.0),
        ]
    )
    table["generation_replicate"] = [1, 1, 2, 2]
    spread = replicate_spread(table)
    assert len(spread) == 1
    row = spread.iloc[0]
    assert (row.n_replicates, row["mean"], row["min"], row["max"]) == (2, 6.5, 5.0, 8.0)
    assert row.std_between_replicates == pytest.approx(2.1213203)


def test_the_bootstrap_drawn_in_blocks_is_the_single_draw():
    values = np.random.default_rng(5).normal(size=333)
    whole = np.random.default_rng(0).choice(values, size=(10_000, 333)).mean(axis=1)
    tail = (1 - CONFIDENCE) / 2 * 100
    expected = tuple(float(x) for x in np.percentile(whole, [tail, 100 - tail]))
    assert bootstrap_mean_ci(values) == expected
