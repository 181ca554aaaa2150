"""Every score belongs to the answer it judged, however the experiment changes between runs.

The README's way of working, as real ``daydreaming`` processes against the local mock server:
the mock example, then a larger experiment, then a concept added to the concept file (at its
start, so the file is reordered too), then one generation template edited, then one judge's
temperature changed. After every run the files on disk are checked independently of the
pipeline's own bookkeeping: each counted score judged the generation answer stored now, made
with the current templates and settings; each combination id kept its concepts; no request
was ever sent twice; and ``estimate`` predicted exactly the calls the run made.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from daydreaming_dagster.experiment.call_identity import sha256_text
from daydreaming_dagster.experiment.prompts import (
    concepts_by_combo,
    evaluation_prompt_text,
    generation_prompt_text,
)
from daydreaming_dagster.mock_llm_server import Fault
from daydreaming_dagster.records.data_layout import DataLayout, record_path, text_path

from .conftest import BIN, SEED_CONCEPTS, SEED_TEMPLATES, make_project
from .test_cli import estimate_totals, run

EXAMPLE = ["--k-max", "2", "--concepts", ",".join(SEED_CONCEPTS)]
LARGER = ["--k-max", "3"]  # every concept in the (trimmed) concept file
TEMPLATES = ["--templates", ",".join(SEED_TEMPLATES)]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh project whose concept file holds four concepts (the fifth is added later)."""
    root = make_project(tmp_path / "project")
    path = DataLayout(root / "data").concepts_file
    data = json.loads(path.read_text())
    (root / "all_concepts.json").write_text(json.dumps(data))
    data["concepts"] = data["concepts"][:4]
    path.write_text(json.dumps(data, indent=2))
    return root


class Scenario:
    """Runs ``estimate`` then ``run`` and checks every promise after each run."""

    def __init__(self, project: Path, mock_llm):
        self.project = project
        self.mock = mock_llm
        self.layout = DataLayout(project / "data")
        self.combos_seen: dict[str, frozenset[str]] = {}

    def step(self, *flags: str, estimate_first: bool = True) -> str:
        """``estimate`` (the command, or else the plan ``run`` prints from the same function),
        then ``run``: the calls made must be exactly the calls predicted."""
        daydreaming = str(BIN / "daydreaming")
        predicted = None
        if estimate_first:
            estimate = run(self.project, self.mock, daydreaming, "estimate", *flags)
            assert estimate.returncode == 0, estimate.stdout + estimate.stderr
            predicted = estimate_totals(estimate.stdout)["calls"]
        before = self.mock.request_count
        result = run(self.project, self.mock, daydreaming, "run", *flags)
        assert result.returncode == 0, result.stdout + result.stderr
        planned = sum(
            int(line.split("; ")[1].split()[0])
            for line in result.stdout.splitlines()
            if line.startswith(("generation: ", "evaluation: ")) and "calls to make" in line
        )
        made = self.mock.request_count - before
        assert made == planned == (planned if predicted is None else predicted), result.stdout
        self.check()
        return result.stdout

    def check(self) -> None:
        self.no_request_sent_twice()
        self.combination_ids_keep_their_concepts()
        self.every_counted_score_is_current()

    def no_request_sent_twice(self) -> None:
        sent = Counter((r.model, r.prompt, r.temperature, r.max_tokens) for r in self.mock.requests)
        assert [n for n in sent.values() if n > 1] == []

    def combination_ids_keep_their_concepts(self) -> None:
        table = pd.read_csv(self.layout.tasks / "content_combinations.csv")
        for combo_id, group in table.groupby("combo_id"):
            concepts = frozenset(group["concept_id"])
            assert self.combos_seen.setdefault(str(combo_id), concepts) == concepts, combo_id

    def every_counted_score_is_current(self) -> None:
        """Recomputed from the raw files, without the pipeline's task_status module."""
        layout = self.layout
        tasks = layout.tasks
        generations = pd.read_csv(tasks / "generation_tasks.csv").set_index("generation_task_id")
        evaluations = pd.read_csv(tasks / "evaluation_tasks.csv").set_index("evaluation_task_id")
        concepts = concepts_by_combo(pd.read_csv(tasks / "content_combinations.csv"))
        gen_models = pd.read_csv(layout.generation_models_file).set_index("model")
        judges = pd.read_csv(layout.evaluation_models_file).set_index("model")
        scores = pd.read_csv(layout.parsing / "parsed_scores.csv")
        counted = scores[scores["score"].notna()]
        assert len(counted) == len(evaluations)  # every run here ends with everything done
        for row in counted.itertuples(index=False):
            gen = generations.loc[row.generation_task_id]
            template = layout.generation_templates_dir / f"{gen.generation_template}.txt"
            prompt = generation_prompt_text(
                {"t": template.read_text()}, "t", concepts[gen.combo_id]
            )
            gen_record = json.loads(
                record_path(layout.generation_responses, row.generation_task_id).read_text()
            )
            answer = text_path(layout.generation_responses, row.generation_task_id).read_text()
            assert gen_record["prompt_sha256"] == sha256_text(prompt)
            assert gen_record["temperature"] == gen_models.at[gen.generation_model, "temperature"]
            judge_template = layout.evaluation_templates_dir / f"{row.evaluation_template}.txt"
            judge_prompt = evaluation_prompt_text({"t": judge_template.read_text()}, "t", answer)
            record = json.loads(
                record_path(layout.evaluation_responses, row.evaluation_task_id).read_text()
            )
            assert record["prompt_sha256"] == sha256_text(judge_prompt), row.evaluation_task_id
            assert record["generation_answer_sha256"] == sha256_text(answer)
            assert record["temperature"] == judges.at[row.evaluation_model, "temperature"]
            judged = text_path(layout.evaluation_responses, row.evaluation_task_id).read_text()
            assert f"SCORE: {row.score:.1f}" in judged
        by_model = pd.read_csv(layout.summary / "by_generation_model.csv")
        assert by_model["n_scored"].sum() == len(counted)
        assert by_model["n_stale"].sum() == 0


def test_results_stay_true_when_the_experiment_changes(project, mock_llm):
    scenario = Scenario(project, mock_llm)
    layout = scenario.layout

    # 1. The mock example: 3 pairs x 2 templates x 2 generators, 4 judgements each.
    out = scenario.step(*EXAMPLE, *TEMPLATES, estimate_first=False)
    assert "generation: 0 done, 0 stale, 12 to do; 12 calls to make" in out
    assert mock_llm.request_count == 60

    # 2. A larger experiment: all four concepts, k=3. Its ids are new; the pairs are set aside.
    out = scenario.step(*LARGER, *TEMPLATES)
    assert "generation: 0 done, 0 stale, 16 to do; 16 calls to make" in out
    assert "Set aside: 12 generation and 48 evaluation results" in out
    combos = pd.read_csv(layout.tasks / "content_combinations.csv")
    assert sorted(set(combos["combo_id"])) == ["combo_004", "combo_005", "combo_006", "combo_007"]
    assert mock_llm.request_count == 60 + 80
    summary = (layout.summary / "summary.md").read_text()
    assert f"| endpoint | 127.0.0.1:{mock_llm.port} |" in summary
    assert "16 done, 0 stale, 0 to do (12 set aside)" in summary
    assert "local endpoint" in summary

    # 3. A fifth concept, added at the start of the concept file: 6 new triples, 4 kept.
    path = layout.concepts_file
    data = json.loads(path.read_text())
    everything = json.loads((project / "all_concepts.json").read_text())["concepts"]
    data["concepts"].insert(0, everything[4])
    path.write_text(json.dumps(data, indent=2))
    out = scenario.step(*LARGER, *TEMPLATES, estimate_first=False)
    assert "generation: 16 done, 0 stale, 24 to do; 24 calls to make" in out
    assert mock_llm.request_count == 140 + 24 * 5

    # 4. One generation template edited: its 20 answers and their 80 judgements are redone.
    template = layout.generation_templates_dir / f"{SEED_TEMPLATES[1]}.txt"
    template.write_text(template.read_text() + "\nBe specific.\n")
    out = scenario.step(*LARGER, *TEMPLATES)
    assert "generation: 20 done, 20 stale, 0 to do; 20 calls to make" in out
    assert "evaluation: 80 done, 80 stale, 0 to do; 80 calls to make" in out

    # 5. One judge's temperature changed: only its 80 judgements are redone.
    models = pd.read_csv(layout.evaluation_models_file, dtype=str, keep_default_na=False)
    judge = models[models["active"] == "true"].iloc[0]["model"]
    models.loc[models["model"] == judge, "temperature"] = "0.3"
    models.to_csv(layout.evaluation_models_file, index=False)
    out = scenario.step(*LARGER, *TEMPLATES)
    assert "generation: 40 done, 0 stale, 0 to do; 0 calls to make" in out
    assert "evaluation: 80 done, 80 stale, 0 to do; 80 calls to make" in out
    assert {r.model for r in mock_llm.requests[-80:]} == {judge}

    # And again: nothing to do, nothing called, the summary kept as it is.
    before = mock_llm.request_count
    again = run(project, mock_llm, str(BIN / "daydreaming"), "run", *LARGER, *TEMPLATES)
    assert again.returncode == 0 and mock_llm.request_count == before
    assert "Scores and summaries are up to date" in again.stdout


def test_a_failing_regeneration_is_never_judged_by_its_old_answer(project, mock_llm):
    """A template edit makes the old answers stale; the regeneration of one model fails; its
    evaluations fail with "generation not ready" and its old answers are never judged again."""
    daydreaming = str(BIN / "daydreaming")
    first = run(project, mock_llm, daydreaming, "run", *EXAMPLE, *TEMPLATES)
    assert first.returncode == 0, first.stdout + first.stderr
    layout = DataLayout(project / "data")
    gemma = "google/gemma-3-27b-it:free"
    tasks = pd.read_csv(layout.tasks / "generation_tasks.csv")
    edited = tasks[
        (tasks.generation_template == SEED_TEMPLATES[0]) & (tasks.generation_model == gemma)
    ]
    old_answers = {
        key: text_path(layout.generation_responses, key).read_text()
        for key in edited.generation_task_id
    }
    template = layout.generation_templates_dir / f"{SEED_TEMPLATES[0]}.txt"
    template.write_text(template.read_text() + "\nAnswer in one page.\n")
    mock_llm.fail_always("gemma", 404, "No endpoints found for this model")
    before = mock_llm.request_count

    result = run(project, mock_llm, daydreaming, "run", *EXAMPLE, *TEMPLATES)
    assert result.returncode == 1
    assert "generation not ready: " in result.stdout
    judged_now = [r.prompt for r in mock_llm.requests[before:] if "gemma" not in r.model]
    for answer in old_answers.values():
        assert not any(answer.strip() in prompt for prompt in judged_now)
    scores = pd.read_csv(layout.parsing / "parsed_scores.csv")
    of_edited = scores[scores.generation_task_id.isin(old_answers)]
    assert len(of_edited) == 3 * 4 and of_edited["score"].isna().all()
    assert set(of_edited["state"]) == {"stale"} and set(of_edited["generation_state"]) == {"stale"}
    assert of_edited["error"].str.startswith("stale, not counted: generation not ready").all()
    summary = pd.read_csv(layout.summary / "by_generation_model.csv")
    assert summary.loc[summary.generation_model == gemma, "n_stale"].sum() == 12


def test_judging_waits_for_the_new_answer_while_it_is_being_generated(project, mock_llm):
    """Editing a template makes its answers stale; while the new ones are slowly generated,
    the judging process (started at once) must wait for them, never judge the old files."""
    daydreaming = str(BIN / "daydreaming")
    first = run(project, mock_llm, daydreaming, "run", *EXAMPLE, *TEMPLATES)
    assert first.returncode == 0, first.stdout + first.stderr
    layout = DataLayout(project / "data")
    old_answers = [p.read_text().strip() for p in layout.generation_responses.glob("*.txt")]
    template = layout.generation_templates_dir / f"{SEED_TEMPLATES[1]}.txt"
    template.write_text(template.read_text() + "\nTake your time and be slow.\n")
    mock_llm.script([Fault(kind="slow", seconds=1.5, match="be slow.") for _ in range(6)])
    before = mock_llm.request_count

    result = run(project, mock_llm, daydreaming, "run", *EXAMPLE, *TEMPLATES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert mock_llm.pending_faults == 0  # every regeneration was slow
    assert "evaluation: 24 called" in result.stdout
    edited = pd.read_csv(layout.tasks / "generation_tasks.csv")
    edited = edited[edited.generation_template == SEED_TEMPLATES[1]].generation_task_id
    new_answers = [text_path(layout.generation_responses, k).read_text().strip() for k in edited]
    judged = [r.prompt for r in mock_llm.requests[before:] if "be slow." not in r.prompt]
    assert len(judged) == 24
    stale = set(old_answers) - set(
        p.read_text().strip() for p in layout.generation_responses.glob("*.txt")
    )
    assert len(stale) == 6
    assert not any(answer in prompt for answer in stale for prompt in judged)
    assert all(any(answer in prompt for prompt in judged) for answer in new_answers)
