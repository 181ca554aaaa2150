"""Paired model comparisons against hand computations, textbook values and scipy."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from .paired_comparisons import COLUMNS, holm, paired_comparisons, wilcoxon_p
from .statistics import bootstrap_mean_ci


def row(combo, template, model, judge, score, replicate=1, evaluation_template="rubric"):
    return {
        "generation_task_id": f"{combo}_{template}_{model}_r{replicate}",
        "combo_id": combo,
        "generation_template": template,
        "generation_model": model,
        "evaluation_template": evaluation_template,
        "evaluation_model": judge,
        "score": score,
    }


def test_the_mean_difference_is_over_shared_items_of_essay_means():
    rows = [
        # item c1/t1: a's essay 8 and 6 from two judges (mean 7); b's 4 -> difference 3
        row("c1", "t1", "a", "j1", 8.0), row("c1", "t1", "a", "j2", 6.0),
        row("c1", "t1", "b", "j1", 4.0), row("c1", "t1", "b", "j2", 4.0),
        # item c2/t1: a has two replicates (means 5 and 3 -> 4), b has 5 -> difference -1
        row("c2", "t1", "a", "j1", 5.0, 1), row("c2", "t1", "a", "j1", 3.0, 2),
        row("c2", "t1", "b", "j1", 5.0),
        # item c3/t1: only a answered (b's answer unscored): not shared
        row("c3", "t1", "a", "j1", 9.0), row("c3", "t1", "b", "j1", None),
    ]  # fmt: skip
    table = paired_comparisons(pd.DataFrame(rows))
    assert list(table.columns) == COLUMNS
    first = table.iloc[0]
    assert (first.model_a, first.model_b, first.n_pairs) == ("a", "b", 2)
    assert first.mean_diff == pytest.approx((3 + -1) / 2)


def test_wilcoxon_exact_p_of_five_positive_differences():
    # Every one of 2^5 sign patterns is equally likely under H0; all positive is the most
    # extreme in either direction: p = 2 / 32.
    assert wilcoxon_p(np.array([1.0, 2.0, 3.0, 4.0, 5.0])) == pytest.approx(0.0625)
    assert wilcoxon_p(np.zeros(4)) == 1.0
    assert np.isnan(wilcoxon_p(np.array([])))


def test_holm_adjustment_of_a_textbook_example():
    # Sorted p 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1, made monotone: 0.02, 0.03, 0.06, 0.06.
    adjusted = holm(pd.Series([0.01, 0.04, 0.03, 0.005, np.nan]))
    assert adjusted.iloc[:4].tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(adjusted.iloc[4])


def test_holm_leaves_the_heap_as_frozen_as_it_found_it():
    import gc

    holm(pd.Series([0.01, 0.04]))
    assert gc.get_freeze_count() == 0
    gc.freeze()  # as while a forked process lives (records.fork_memory)
    try:
        frozen = gc.get_freeze_count()
        holm(pd.Series([0.01, 0.04]))
        assert gc.get_freeze_count() >= frozen > 0
    finally:
        gc.unfreeze()


def test_the_paired_bootstrap_interval_agrees_with_scipys_bootstrap():
    differences = np.random.default_rng(3).normal(0.8, 2.0, 60)
    low, high = bootstrap_mean_ci(differences)
    theirs = stats.bootstrap(
        (differences,), np.mean, method="percentile", n_resamples=20_000, random_state=11
    ).confidence_interval
    assert low == pytest.approx(theirs.low, abs=0.06)
    assert high == pytest.approx(theirs.high, abs=0.06)


def test_every_pair_per_template_with_holm_over_all_rows():
    rng = np.random.default_rng(0)
    rows = []
    for combo in range(8):
        for model, shift in (("a", 2.0), ("b", 0.0), ("c", 0.0)):
            for template in ("rubric", "creativity"):
                score = float(np.clip(5 + shift + rng.normal(0, 0.5), 0, 10))
                rows.append(
                    row(f"c{combo}", "t1", model, "j1", score, evaluation_template=template)
                )
    table = paired_comparisons(pd.DataFrame(rows))
    assert len(table) == 2 * 3
    pairs = set(zip(table.model_a, table.model_b, strict=True))
    assert pairs == {("a", "b"), ("a", "c"), ("b", "c")}
    ab = table[(table.model_a == "a") & (table.model_b == "b")]
    assert (ab.n_pairs == 8).all() and (ab.ci95_low > 0).all()
    assert ab.p_wilcoxon.tolist() == pytest.approx([2 / 2**8] * 2)  # exact: all eight positive
    assert (table.p_holm >= table.p_wilcoxon).all()


def test_a_model_without_scores_gets_a_row_without_numbers():
    rows = [row("c1", "t1", "a", "j1", 5.0), row("c1", "t1", "b", "j1", None)]
    table = paired_comparisons(pd.DataFrame(rows))
    assert table.iloc[0].n_pairs == 0 and np.isnan(table.iloc[0].mean_diff)
    assert np.isnan(table.iloc[0].p_holm)
