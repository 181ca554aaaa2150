from datetime import UTC, datetime

from .cohorts import (
    cohort_ids,
    input_digests,
    new_cohort_id,
    project_commit,
    read_manifest,
    unchanged_cohort,
    write_cohort,
)
from .data_layout import DataLayout


def test_a_cohort_copies_the_results_and_its_manifest_marks_it_complete(tmp_path):
    layout = DataLayout(tmp_path / "data")
    layout.parsing.mkdir(parents=True)
    (layout.parsing / "parsed_scores.csv").write_text("a,b\n1,2\n", "utf-8")
    (layout.cohorts / "20260101T000000Z-aaaaaa").mkdir(parents=True)  # no manifest: incomplete
    cohort = new_cohort_id(datetime(2026, 12, 2, 10, 15, tzinfo=UTC))
    assert cohort.startswith("20261202T101500Z-") and len(cohort) == 23
    folder = write_cohort(layout, cohort, {"cohort_id": cohort})
    assert (folder / "parsed_scores.csv").read_text("utf-8") == "a,b\n1,2\n"
    assert not (folder / "headline.csv").exists()  # copied only when the run wrote one
    assert cohort_ids(layout) == [cohort]
    assert read_manifest(layout, cohort) == {"cohort_id": cohort}


def test_input_digests_change_with_a_template(tmp_path):
    layout = DataLayout(tmp_path / "data")
    layout.generation_templates_dir.mkdir(parents=True)
    path = layout.generation_templates_dir / "t1.txt"
    path.write_text("one", "utf-8")
    before = input_digests(layout)
    path.write_text("two", "utf-8")
    after = input_digests(layout)
    assert before["generation_templates"]["t1"] != after["generation_templates"]["t1"]
    assert after["concepts_file"] is None


def test_the_commit_is_a_hash_or_unknown():
    found = project_commit()
    commit = found["git_commit"]
    assert commit == "unknown" or (len(commit) == 40 and isinstance(found["git_dirty"], bool))


def test_results_unchanged_since_the_newest_cohort_are_that_cohort(tmp_path):
    layout = DataLayout(tmp_path / "data")
    layout.parsing.mkdir(parents=True)
    scores = layout.parsing / "parsed_scores.csv"
    scores.write_text("a,b\n1,2\n", "utf-8")
    inputs = input_digests(layout)
    assert unchanged_cohort(layout, inputs) is None  # no cohort yet
    cohort = new_cohort_id(datetime(2026, 12, 2, 10, 15, tzinfo=UTC))
    write_cohort(layout, cohort, {"cohort_id": cohort, "inputs_sha256": inputs})
    assert unchanged_cohort(layout, inputs) == cohort
    assert unchanged_cohort(layout, {**inputs, "concepts_file": "other"}) is None
    scores.write_text("a,b\n1,3\n", "utf-8")  # a score changed: a new cohort
    assert unchanged_cohort(layout, inputs) is None
