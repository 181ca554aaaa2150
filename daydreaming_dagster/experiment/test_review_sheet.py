import pandas as pd

from .review_sheet import (
    HUMAN_COLUMNS,
    blinded_essay,
    mask_model_names,
    merge_human_scores,
    model_name_forms,
    new_item_ids,
    read_filled_sheet,
    stratified_sample,
)


def essays(counts: dict[str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"generation_task_id": f"{m}_{i}", "generation_model": m}
         for m, n in counts.items() for i in range(n)]
    )  # fmt: skip


def test_the_sample_is_spread_evenly_over_models_and_seeded():
    table = essays({"a": 10, "b": 10, "small": 2})
    picked = stratified_sample(table, 9, seed=1)
    by_model = pd.Series([p.rsplit("_", 1)[0] for p in picked]).value_counts().to_dict()
    assert by_model == {"a": 4, "b": 3, "small": 2}  # small's third share goes to the others
    assert len(set(picked)) == 9
    assert stratified_sample(table, 9, seed=1) == picked
    assert sorted(stratified_sample(table, 50, seed=2)) == sorted(table.generation_task_id)


def test_item_ids_say_nothing_and_never_repeat():
    ids = new_item_ids(200, taken=["Rabc"])
    assert len(set(ids)) == 200 and "Rabc" not in ids
    assert all(i.startswith("R") and len(i) == 11 for i in ids)


KEY = pd.DataFrame(
    {
        "item_id": ["R1", "R2", "R3"],
        "generation_task_id": ["g1", "g2", "g3"],
        "evaluation_template": "rubric",
        "generation_answer_sha256": ["s1", "s2", "s3"],
        "sheet": "sheet.csv",
        "exported_at": "now",
    }
)


def sheet(rows: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows).astype(str)


def test_a_good_sheet_becomes_human_scores():
    filled = sheet([{"item_id": "R1", "score": "6.5", "reviewer": "ann"},
                    {"item_id": "R3", "score": "0", "evaluation_template": "rubric"}])  # fmt: skip
    scores, problems = read_filled_sheet(filled, KEY, "sheet.csv", "now")
    assert problems == []
    assert list(scores.columns) == HUMAN_COLUMNS
    assert scores.score.tolist() == [6.5, 0.0]
    assert scores.generation_task_id.tolist() == ["g1", "g3"]
    assert set(scores.evaluation_model) == {"human"}
    assert scores.generation_answer_sha256.tolist() == ["s1", "s3"]


def test_every_bad_row_is_named_and_nothing_is_taken():
    filled = sheet(
        [
            {"item_id": "R1", "score": "7"},
            {"item_id": "R9", "score": "5"},
            {"item_id": "R2", "score": ""},
            {"item_id": "R3", "score": "11"},
            {"item_id": "R1", "score": "4"},
            {"item_id": "", "score": "4"},
            {"item_id": "R2", "score": "seven"},
            {"item_id": "R3", "score": "nan"},
        ]
    )
    scores, problems = read_filled_sheet(filled, KEY, "sheet.csv", "now")
    assert scores.empty
    assert problems == [
        "row 3 (item R9): unknown item_id, not in any sheet exported from this data folder",
        "row 4 (item R2): no score",
        "row 5 (item R3): score 11 is outside 0-10",
        "row 6 (item R1): the item appears twice (first on row 2)",
        "row 7: no item_id",
        "row 8 (item R2): score 'seven' is not a number (write e.g. 6 or 6.5)",
        "row 9 (item R3): score 'nan' is not a number (write e.g. 6 or 6.5)",
    ]


def test_a_sheet_without_the_columns_or_rows_is_refused():
    _, problems = read_filled_sheet(sheet([{"id": "R1"}]), KEY, "x", "now")
    assert problems[0].startswith("the file has no 'item_id' or 'score' column")
    _, problems = read_filled_sheet(pd.DataFrame(columns=["item_id", "score"]), KEY, "x", "now")
    assert problems == ["the file has no rows to import"]
    wrong = sheet([{"item_id": "R1", "score": "5", "evaluation_template": "creativity"}])
    assert "is not the exported 'rubric'" in read_filled_sheet(wrong, KEY, "x", "now")[1][0]


def test_importing_an_item_again_replaces_its_score():
    both = sheet([{"item_id": "R1", "score": "3"}, {"item_id": "R2", "score": "4"}])
    first, _ = read_filled_sheet(both, KEY, "a", "t1")
    again, _ = read_filled_sheet(sheet([{"item_id": "R2", "score": "9"}]), KEY, "b", "t2")
    merged, replaced = merge_human_scores(first, again)
    assert replaced == 1
    assert merged.set_index("item_id").score.to_dict() == {"R1": 3.0, "R2": 9.0}


def test_an_essay_that_names_its_model_is_masked():
    forms = model_name_forms(["google/gemma-3-27b-it:free", "deepseek/deepseek-r1:free"])
    text = (
        "[mock answer from google/gemma-3-27b-it:free] As Gemma-3-27B-IT I think; DeepSeek-R1 too."
    )
    masked = mask_model_names(text, forms)
    assert masked == "[mock answer from [model]] As [model] I think; [model] too."
    assert mask_model_names("No names here.", forms) == "No names here."


def test_a_blinded_essay_shows_no_reasoning_block_and_no_model_name():
    forms = model_name_forms(["deepseek/deepseek-r1:free"])
    answer = "<think>As DeepSeek-R1 I should plan the essay first.</think>\n\nThe essay itself."
    assert blinded_essay(answer, forms) == "The essay itself."
    unterminated = "An essay by deepseek-r1.\n<think>and then it kept thinking"
    assert blinded_essay(unterminated, forms) == "An essay by [model]."
    assert blinded_essay("Plain essay.\n", forms) == "Plain essay."
