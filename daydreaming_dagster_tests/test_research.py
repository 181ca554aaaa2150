"""Issue 13 end to end, as a user types it: the headline, judge reliability and paired
comparisons recomputed from parsed_scores.csv, a blinded review round trip, cohorts and
``compare``, and re-scoring with a new judge or evaluation template without regenerating.

Every command is a real process; every model call goes over HTTP to the local mock server.
"""

from __future__ import annotations

from pathlib import Path

import krippendorff
import pandas as pd
import pytest

from .conftest import BIN, SEED_TEMPLATES, make_project
from .test_cli import run, seed_run_command

GENERATORS = {"deepseek/deepseek-r1:free", "google/gemma-3-27b-it:free"}
JUDGES = ["deepseek/deepseek-chat-v3-0324:free", "google/gemini-2.5-flash"]
NEW_JUDGE = "anthropic/claude-sonnet-4"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "project")


def daydreaming(project: Path, mock_llm, *args: str):
    return run(project, mock_llm, str(BIN / "daydreaming"), *args)


def recomputed_alpha(block: pd.DataFrame) -> float:
    """As the held-out check defines it: units = essays, coders = judges, values = scores."""
    matrix = block.pivot_table(
        index="generation_task_id", columns="evaluation_model", values="score"
    )
    return krippendorff.alpha(
        reliability_data=matrix.T.to_numpy(dtype=float), level_of_measurement="interval"
    )


def recomputed_mean_diff(parsed: pd.DataFrame, template: str, a: str, b: str) -> float:
    """Mean over shared (combination, generation template) items of a's essay score minus
    b's, each essay's score being its mean over judges."""
    block = parsed[parsed["evaluation_template"] == template]
    essays = block.groupby(["combo_id", "generation_template", "generation_model"])["score"]
    wide = essays.mean().unstack("generation_model")[[a, b]].dropna()
    return float((wide[a] - wide[b]).mean())


def check_tables_against_parsed_scores(data: Path) -> None:
    parsed = pd.read_csv(data / "05_parsing" / "parsed_scores.csv")
    reliability = pd.read_csv(data / "06_summary" / "judge_reliability.csv")
    assert list(reliability.columns) == [
        "evaluation_template", "n_items", "n_judges", "alpha", "ci95_low", "ci95_high"
    ]  # fmt: skip
    for row in reliability.itertuples():
        block = parsed[parsed["evaluation_template"] == row.evaluation_template]
        assert abs(row.alpha - recomputed_alpha(block)) < 0.01
        assert (row.n_items, row.n_judges) == (12, 2)
        assert row.ci95_low <= row.alpha <= row.ci95_high
    paired = pd.read_csv(data / "06_summary" / "paired_model_comparisons.csv")
    assert list(paired.columns) == [
        "evaluation_template", "model_a", "model_b", "n_pairs", "mean_diff", "ci95_low",
        "ci95_high", "p_wilcoxon", "p_holm",
    ]  # fmt: skip
    assert len(paired) == 2 and (paired["n_pairs"] == 6).all()
    for row in paired.itertuples():
        expected = recomputed_mean_diff(parsed, row.evaluation_template, row.model_a, row.model_b)
        assert abs(row.mean_diff - expected) < 0.01
        assert row.ci95_low <= row.mean_diff <= row.ci95_high and row.p_holm >= row.p_wilcoxon


def test_headline_reliability_review_round_trip_and_cohorts(project, mock_llm):
    command = seed_run_command(SEED_TEMPLATES)[1:]
    first = daydreaming(project, mock_llm, *command)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Reinvention rate" in first.stdout and "not run: add --calibrate" in first.stdout
    data = project / "data"
    check_tables_against_parsed_scores(data)
    summary = (data / "06_summary" / "summary.md").read_text("utf-8")
    first_table = next(line for line in summary.splitlines() if line.startswith("|"))
    assert "generation_model" in first_table and "reinvention_rate" in first_table
    assert "judges do not agree enough" in summary or "agree enough to trust" in summary
    headline = pd.read_csv(data / "06_summary" / "headline.csv")
    assert set(headline["generation_model"]) == GENERATORS
    assert (headline["n_essays"] == 6).all()
    assert (data / "06_summary" / "paired_model_comparisons.png").exists()
    cohorts = sorted(p.name for p in (data / "cohorts").iterdir())
    assert len(cohorts) == 1 and cohorts[0] in first.stdout
    manifest = pd.read_json(data / "cohorts" / cohorts[0] / "manifest.json", typ="series")
    assert set(manifest["models"]["evaluation"]) == set(JUDGES)
    assert manifest["inputs_sha256"]["concepts_file"] and manifest["git_commit"]
    assert (data / "cohorts" / cohorts[0] / "headline.csv").exists()

    # Review: export 20 (12 essays exist), fill in, import; a malformed sheet changes nothing.
    sheet = project / "sheet.csv"
    exported = daydreaming(project, mock_llm, "review", "export", "--n", "20", "--out", str(sheet))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    filled = pd.read_csv(sheet, dtype=str, keep_default_na=False)
    assert len(filled) == 12
    assert list(filled.columns) == ["item_id", "evaluation_template", "score", "reviewer",
                                    "essay", "rubric"]  # fmt: skip
    filled["score"] = [str(i % 11) for i in range(12)]
    filled.to_csv(sheet, index=False)
    imported = daydreaming(project, mock_llm, "review", "import", str(sheet))
    assert imported.returncode == 0, imported.stdout + imported.stderr
    versus = pd.read_csv(data / "06_summary" / "judge_vs_human.csv")
    assert sorted(versus["judge"]) == JUDGES and (versus["n_items"] == 12).all()
    stored = (data / "07_review" / "human_scores.csv").read_bytes()
    filled.loc[3, "score"] = "eleven"
    filled.to_csv(sheet, index=False)
    bad = daydreaming(project, mock_llm, "review", "import", str(sheet))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "row 5 (item " in bad.stderr and "not a number" in bad.stderr
    assert (data / "07_review" / "human_scores.csv").read_bytes() == stored

    # Run again with --calibrate: only calibration calls; the summary takes in humans and controls.
    calls_before = mock_llm.request_count
    second = daydreaming(project, mock_llm, *command, "--calibrate")
    assert second.returncode == 0, second.stdout + second.stderr
    new = mock_llm.requests[calls_before:]
    assert len(new) == 4 * 2 * len(JUDGES)  # controls x evaluation templates x judges
    assert not [r for r in new if r.model in GENERATORS]
    assert (data / "07_review" / "human_scores.csv").read_bytes() == stored
    summary = (data / "06_summary" / "summary.md").read_text("utf-8")
    assert "## judge vs human" in summary and "No human scores yet" not in summary
    headline = pd.read_csv(data / "06_summary" / "headline.csv")
    assert headline["controls"].str.startswith("panel right on").all()
    assert len(pd.read_csv(data / "06_summary" / "calibration_pass_rates.csv")) == 4
    cached = "".join(p.read_text("utf-8") for p in (data / "llm_cache").rglob("*.json"))
    assert not any(item in cached for item in filled["item_id"])  # no human score went there

    cohorts = sorted(p.name for p in (data / "cohorts").iterdir())
    assert len(cohorts) == 2
    compared = daydreaming(project, mock_llm, "compare", cohorts[0], cohorts[1])
    assert compared.returncode == 0, compared.stdout + compared.stderr
    moved = pd.read_csv(data / "06_summary" / "compare" / f"{cohorts[0]}__vs__{cohorts[1]}.csv")
    assert (moved["mean_diff"] == 0).all() and set(moved["dimension"]) == {
        "all", "generation_model", "generation_template"
    }  # fmt: skip
    unknown = daydreaming(project, mock_llm, "compare", "no-such-cohort", cohorts[1])
    assert unknown.returncode == 2 and "No cohort 'no-such-cohort'" in unknown.stderr


def set_active(path: Path, column: str, name: str) -> None:
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table.loc[table[column] == name, "active"] = "true"
    table.to_csv(path, index=False)


def test_a_new_judge_or_template_calls_only_the_new_evaluations(project, mock_llm):
    command = seed_run_command(SEED_TEMPLATES[:1])[1:]  # 6 generations
    first = daydreaming(project, mock_llm, *command)
    assert first.returncode == 0, first.stdout + first.stderr
    assert mock_llm.request_count == 6 + 6 * 2 * 2
    raw = project / "data" / "01_raw"

    set_active(raw / "evaluation_models.csv", "model", NEW_JUDGE)
    before = mock_llm.request_count
    second = daydreaming(project, mock_llm, *command)
    assert second.returncode == 0, second.stdout + second.stderr
    new = mock_llm.requests[before:]
    assert len(new) == 6 * 2 and {r.model for r in new} == {NEW_JUDGE}
    assert "generation: nothing to do" in second.stdout

    set_active(raw / "evaluation_templates.csv", "template", "scientific_rigor")
    before = mock_llm.request_count
    third = daydreaming(project, mock_llm, *command)
    assert third.returncode == 0, third.stdout + third.stderr
    new = mock_llm.requests[before:]
    assert len(new) == 6 * 3 and {r.model for r in new} == {*JUDGES, NEW_JUDGE}
    assert all("experienced scientific reviewer" in r.prompt for r in new)
    parsed = pd.read_csv(project / "data" / "05_parsing" / "parsed_scores.csv")
    assert len(parsed) == 6 * 3 * 3 and parsed["score"].notna().all()
    reliability = pd.read_csv(project / "data" / "06_summary" / "judge_reliability.csv")
    assert set(reliability["evaluation_template"]) == {
        "creativity_insight", "daydreaming_loop_rubric", "scientific_rigor"
    }  # fmt: skip
    assert (reliability["n_judges"] == 3).all()
