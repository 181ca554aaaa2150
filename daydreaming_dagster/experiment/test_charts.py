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
