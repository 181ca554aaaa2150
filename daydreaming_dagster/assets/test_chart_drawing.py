import gc

import pandas as pd
import pytest

from ..experiment.test_charts import scores
from . import chart_drawing
from .chart_drawing import FORK_MAX_SCORE_ROWS, draw_charts, drawing, forks_for


def table() -> pd.DataFrame:
    return scores().assign(combo_id=lambda t: "c" + t["generation_task_id"].str[1:])


def test_a_small_experiment_is_drawn_in_a_forked_process_a_large_one_in_place():
    small = table()
    assert forks_for(small)
    large = pd.concat([small] * (FORK_MAX_SCORE_ROWS // len(small) + 1), ignore_index=True)
    assert len(large) > FORK_MAX_SCORE_ROWS
    assert not forks_for(large)


@pytest.mark.parametrize("fork", [True, False])
def test_the_charts_are_the_same_drawn_in_a_fork_or_in_place(monkeypatch, fork):
    if not fork:
        monkeypatch.setattr(chart_drawing, "FORK_MAX_SCORE_ROWS", -1)
    assert forks_for(table()) is fork
    with drawing(table()) as drawn:
        charts = drawn()
    assert charts == draw_charts(table())
    assert set(charts) == {
        "score_distribution",
        "template_model_heatmap",
        "judge_agreement",
        "paired_model_comparisons",
    }
    assert gc.get_freeze_count() == 0


def test_an_error_in_the_tables_still_ends_the_drawing_process_and_thaws_the_heap():
    with pytest.raises(RuntimeError, match="tables failed"), drawing(table()):
        assert gc.get_freeze_count() > 0  # frozen while the drawing process lives
        raise RuntimeError("tables failed")
    assert gc.get_freeze_count() == 0
