import pandas as pd
import pytest

from .cohort_compare import COLUMNS, compare_cohorts


def scores(rows):
    return pd.DataFrame(
        rows,
        columns=["combo_id", "generation_template", "generation_model", "evaluation_template",
                 "evaluation_model", "score"],
    )  # fmt: skip


def test_means_move_on_shared_items_through_common_judges_only():
    a = scores(
        [
            ("c1", "t1", "m1", "rubric", "j1", 4.0),
            ("c2", "t1", "m1", "rubric", "j1", 6.0),
            ("c3", "t1", "m1", "rubric", "j1", 9.0),  # not in B: not shared
            ("c1", "t2", "m2", "rubric", "j1", 2.0),
        ]
    )
    b = scores(
        [
            ("c1", "t1", "m1", "rubric", "j1", 5.0),
            ("c1", "t1", "m1", "rubric", "new_judge", 10.0),  # only in B: left out
            ("c2", "t1", "m1", "rubric", "j1", 8.0),
            ("c1", "t2", "m2", "rubric", "j1", 2.0),
            ("c1", "t2", "m2", "rubric", "j1", None),
        ]
    )
    table = compare_cohorts(a, b)
    assert list(table.columns) == COLUMNS
    rows = table.set_index(["dimension", "value"])
    m1 = rows.loc[("generation_model", "m1")]
    assert (m1.n_items, m1.mean_a, m1.mean_b) == (2, 5.0, 6.5)
    assert m1.mean_diff == pytest.approx(1.5)
    assert (m1.ci95_low, m1.ci95_high) == pytest.approx((1.0, 2.0))
    overall = rows.loc[("all", "all")]
    assert overall.n_items == 3 and overall.mean_diff == pytest.approx(1.0)
    assert rows.loc[("generation_template", "t2")].mean_diff == 0.0


def test_nothing_shared_gives_no_rows():
    a = scores([("c1", "t1", "m1", "rubric", "j1", 4.0)])
    b = scores([("c2", "t1", "m1", "rubric", "j1", 4.0)])
    assert compare_cohorts(a, b).empty
