import pandas as pd

from .calibration import miscalibrated


def table(scores: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"control": c, "evaluation_template": "rubric", "evaluation_model": "j", "score": s}
            for c, s in scores.items()
        ]
    )


def test_a_judge_that_ranks_the_full_loop_clearly_first_is_calibrated():
    assert miscalibrated(table({"full_loop": 9.0, "partial": 5.0, "off_topic": 0.0})) == []


def test_a_close_or_inverted_ranking_is_named():
    close = miscalibrated(table({"full_loop": 6.0, "partial": 5.0}))
    assert close == ["j on rubric: full_loop 6 is not 2 points above partial 5"]
    unreadable = miscalibrated(table({"full_loop": float("nan"), "partial": 5.0}))
    assert "no readable score" in unreadable[0]
