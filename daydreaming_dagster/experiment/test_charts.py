import pandas as pd

from .charts import CHARTS

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def scores() -> pd.DataFrame:
    rows = []
    for g, (model, template) in enumerate(
        [("x/m1", "t1"), ("x/m1", "t2"), ("x/m2", "t1"), ("x/m2", "t2")] * 2
    ):
        for judge, offset in (("j/a", 0.0), ("j/b", 1.0)):
            rows.append(
                {
                    "evaluation_template": "rubric",
                    "generation_task_id": f"g{g}",
                    "generation_model": model,
                    "generation_template": template,
                    "evaluation_model": judge,
                    "score": float(g % 9) + offset,
                }
            )
    return pd.DataFrame(rows)


def test_every_chart_is_a_png_for_real_scores_and_for_none():
    empty = scores().iloc[0:0]
    for name, draw in CHARTS.items():
        assert draw(scores()).startswith(PNG_SIGNATURE), name
        assert draw(empty).startswith(PNG_SIGNATURE), name


def test_forest_plots_are_pngs_for_real_scores_and_for_none():
    from .cohort_compare import compare_cohorts
    from .forest_charts import cohort_forest, paired_comparisons_forest

    table = scores().assign(combo_id=lambda t: "c" + t["generation_task_id"].str[1:])
    empty = table.iloc[0:0]
    assert paired_comparisons_forest(table).startswith(PNG_SIGNATURE)
    assert paired_comparisons_forest(empty).startswith(PNG_SIGNATURE)
    moved = compare_cohorts(table, table.assign(score=table["score"] + 1))
    assert len(moved) and cohort_forest(moved).startswith(PNG_SIGNATURE)
    assert cohort_forest(moved.iloc[0:0]).startswith(PNG_SIGNATURE)
