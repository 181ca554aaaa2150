import math

import pandas as pd

from daydreaming_dagster.experiment.summary import (
    all_summaries,
    summarize,
    to_markdown,
    top_responses,
)


def _scores() -> pd.DataFrame:
    rows = [
        ("g1", "c1", "t1", "m1", "rubric", "j1", 8.0),
        ("g1", "c1", "t1", "m1", "rubric", "j2", 6.0),
        ("g2", "c2", "t1", "m2", "rubric", "j1", 2.0),
        ("g2", "c2", "t1", "m2", "rubric", "j2", None),
        ("g2", "c2", "t1", "m2", "rubric", "j3", None),
        ("g1", "c1", "t1", "m1", "creativity", "j1", 9.0),
    ]
    table = pd.DataFrame(
        rows,
        columns=[
            "generation_task_id",
            "combo_id",
            "generation_template",
            "generation_model",
            "evaluation_template",
            "evaluation_model",
            "score",
        ],
    )
    table["error"] = None
    table.loc[3, "error"] = "no 'SCORE: <0-10>' line found in the answer"
    table.loc[4, "error"] = "no evaluation response yet (materialize evaluation_response ...)"
    table["generation_response_path"] = (
        "data/03_generation/generation_responses/" + table["generation_task_id"] + ".txt"
    )
    return table


def test_stats_ignore_errors_but_count_them():
    table = summarize(_scores(), ["evaluation_template", "generation_model"]).set_index(
        ["evaluation_template", "generation_model"]
    )
    m1 = table.loc[("rubric", "m1")]
    assert (m1.n_tasks, m1.n_scored, m1.n_missing, m1.n_errors, m1.n_high) == (2, 2, 0, 0, 1)
    assert (m1["mean"], m1["min"], m1["max"]) == (7.0, 6.0, 8.0)
    assert math.isclose(m1["std"], math.sqrt(2))
    m2 = table.loc[("rubric", "m2")]
    assert (m2.n_tasks, m2.n_scored, m2.n_missing, m2.n_errors) == (3, 1, 1, 1)
    assert m2["mean"] == 2.0 and math.isnan(m2["std"])


def test_all_summaries_split_by_evaluation_template():
    tables = all_summaries(_scores())
    assert set(tables) == {
        "by_generation_model",
        "by_generation_template",
        "by_combination",
        "by_evaluation_template",
        "by_evaluation_model",
    }
    assert list(tables["by_evaluation_template"].evaluation_template) == ["creativity", "rubric"]
    assert len(tables["by_generation_model"]) == 3


def test_top_responses_rank_by_mean_with_paths():
    top = top_responses(_scores(), n=1)
    rubric = top[top.evaluation_template == "rubric"].iloc[0]
    assert (rubric.generation_task_id, rubric.mean_score, rubric.n_judges) == ("g1", 7.0, 2)
    assert rubric.generation_response_path.endswith("g1.txt")


def test_empty_inputs():
    empty = _scores().iloc[0:0]
    assert summarize(empty, ["generation_model"]).empty
    assert top_responses(empty).empty
    assert to_markdown(pd.DataFrame()) == "_no rows_"


def test_markdown_formats_numbers_and_escapes_pipes():
    md = to_markdown(pd.DataFrame({"name": ["a|b"], "mean": [7.123]}))
    assert md.splitlines() == ["| name | mean |", "| --- | --- |", "| a\\|b | 7.12 |"]


def test_the_interval_resamples_generations_not_judge_scores():
    from .summary import summarize

    rows = []
    for i, score in enumerate([2.0, 4.0, 6.0, 8.0]):
        for _judge in ("a", "b"):  # two identical judgements of each generation
            rows.append({"g": "m", "generation_task_id": f"g{i}", "score": score, "error": None})
    with_judges = summarize(pd.DataFrame(rows), ["g"])
    one_judge = summarize(pd.DataFrame(rows[::2]), ["g"])
    assert with_judges.loc[0, "n_scored"] == 8
    # Duplicated judgements add no information, so they must not narrow the interval.
    assert with_judges.loc[0, "ci95_low"] == one_judge.loc[0, "ci95_low"]
    assert with_judges.loc[0, "ci95_high"] == one_judge.loc[0, "ci95_high"]


def test_the_mean_is_over_essays_like_its_interval():
    from .summary import summarize

    rows = [("g1", 2.0), ("g1", 2.0), ("g1", 2.0), ("g2", 8.0)]  # three judges of g1, one of g2
    table = pd.DataFrame(
        [{"m": "x", "generation_task_id": g, "score": s, "error": None} for g, s in rows]
    )
    row = summarize(table, ["m"]).iloc[0]
    assert row["mean"] == 5.0  # (2 + 8) / 2, not (2 + 2 + 2 + 8) / 4
    assert row["ci95_low"] <= row["mean"] <= row["ci95_high"]
