import json

from daydreaming_dagster.records.data_layout import (
    DataLayout,
    record_path,
    text_path,
    write_json_atomic,
    write_text_atomic,
)


def test_paths_are_flat_under_their_folder(tmp_path):
    layout = DataLayout(tmp_path)
    key = "combo_001_02_problem_solving_deepseek/deepseek-r1:free"
    path = text_path(layout.generation_responses, key)
    assert path.parent == tmp_path / "03_generation" / "generation_responses"
    assert path.name == "combo_001_02_problem_solving_deepseek%2Fdeepseek-r1%3Afree.txt"
    assert record_path(layout.generation_responses, key).suffix == ".json"


def test_atomic_writes_leave_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    write_text_atomic(target, "hello\r\nworld")
    write_text_atomic(target, "second")
    assert target.read_text() == "second"
    write_json_atomic(tmp_path / "r.json", {"b": 1, "a": None})
    assert json.loads((tmp_path / "r.json").read_text()) == {"a": None, "b": 1}
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a.txt", "r.json"]
