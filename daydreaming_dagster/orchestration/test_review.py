"""Review export and import on a small data folder (no Dagster run needed)."""

from pathlib import Path

import pandas as pd
import pytest

from ..experiment.call_identity import sha256_text
from ..records.data_layout import DataLayout, text_path, write_text_atomic
from ..records.human_review import human_scores_path, read_human_scores
from .review import ReviewInputError, export_review, import_review

REPO_RAW = Path(__file__).resolve().parents[2] / "data" / "01_raw"
RUBRIC = "daydreaming_loop_rubric"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Six done essays from two models, each judged by two judges on the rubric."""
    root = tmp_path / "data"
    layout = DataLayout(root)
    (layout.evaluation_templates_dir).mkdir(parents=True)
    template = (REPO_RAW / "evaluation_templates" / f"{RUBRIC}.txt").read_text("utf-8")
    (layout.evaluation_templates_dir / f"{RUBRIC}.txt").write_text(template, "utf-8")
    rows = []
    for i in range(6):
        model = "prov/model-a" if i % 2 else "prov/model-b"
        task = f"combo_00{i}_t1_{model}"
        answer = f"essay number {i}"
        write_text_atomic(text_path(layout.generation_responses, task), answer)
        for judge in ("judge/one", "judge/two"):
            rows.append(
                {
                    "evaluation_task_id": f"{task}_{RUBRIC}_{judge}",
                    "generation_task_id": task,
                    "combo_id": f"combo_00{i}",
                    "generation_template": "t1",
                    "generation_model": model,
                    "evaluation_template": RUBRIC,
                    "evaluation_model": judge,
                    "score": float(i + (judge == "judge/two")),
                    "state": "done",
                    "generation_state": "done",
                    "generation_answer_sha256": sha256_text(answer),
                }
            )
    layout.parsing.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(layout.parsing / "parsed_scores.csv", index=False)
    return root


def test_export_is_blinded_and_import_scores_every_judge(data, tmp_path):
    out = tmp_path / "sheet.csv"
    result = export_review(str(data), 4, out, seed=3)
    assert result.per_model == {"prov/model-a": 2, "prov/model-b": 2}
    sheet = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(sheet.columns) == ["item_id", "evaluation_template", "score", "reviewer",
                                   "essay", "rubric"]  # fmt: skip
    text = out.read_text("utf-8")
    assert "model-a" not in text and "judge/" not in text and "combo_" not in text
    assert sheet["essay"].str.startswith("essay number").all()
    assert "MARKING SCHEME" in sheet.loc[0, "rubric"]
    sheet["score"] = ["5", "6.5", "0", "10"]
    sheet.to_csv(out, index=False)
    imported = import_review(str(data), out)
    assert imported.imported == 4 and imported.replaced == 0
    table = pd.read_csv(data / "06_summary" / "judge_vs_human.csv")
    assert sorted(table["judge"]) == ["judge/one", "judge/two"]
    assert (table["n_items"] == 4).all()
    stored = read_human_scores(DataLayout(data))
    assert set(stored["evaluation_model"]) == {"human"}
    # Reviewed essays are not offered again; the rest are.
    again = export_review(str(data), 10, tmp_path / "second.csv", seed=1)
    assert sum(again.per_model.values()) == 2


def test_a_bad_sheet_changes_nothing(data, tmp_path):
    out = tmp_path / "sheet.csv"
    export_review(str(data), 3, out, seed=0)
    sheet = pd.read_csv(out, dtype=str, keep_default_na=False)
    sheet["score"] = ["4", "5", "6"]
    sheet.to_csv(out, index=False)
    import_review(str(data), out)
    before = human_scores_path(DataLayout(data)).read_bytes()
    sheet["score"] = ["9", "12", ""]
    sheet.to_csv(out, index=False)
    with pytest.raises(ReviewInputError) as failure:
        import_review(str(data), out)
    assert "row 3 (item " in str(failure.value) and "outside 0-10" in str(failure.value)
    assert "row 4 (item " in str(failure.value) and "no score" in str(failure.value)
    assert human_scores_path(DataLayout(data)).read_bytes() == before  # not even row 2 is taken


def test_export_refuses_to_overwrite_a_sheet(data, tmp_path):
    out = tmp_path / "sheet.csv"
    out.write_text("my filled-in scores", "utf-8")
    with pytest.raises(ReviewInputError, match="exists"):
        export_review(str(data), 2, out)
    assert out.read_text("utf-8") == "my filled-in scores"
    with pytest.raises(ReviewInputError, match="No evaluation template 'nope'"):
        export_review(str(data), 2, tmp_path / "x.csv", template="nope")
