"""The whole pipeline on the seed's 12-task selection, every LLM call over real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from daydreaming_dagster.definitions import build_definitions
from daydreaming_dagster.experiment.concepts import load_concepts
from daydreaming_dagster.mock_llm_server import Fault
from daydreaming_dagster.records.data_layout import DataLayout, record_path, text_path
from daydreaming_dagster.resources.experiment_config import ExperimentConfig

from .conftest import SEED_CONCEPTS, SEED_TEMPLATES, TEST_API_KEY, files_containing
from .pipeline_runner import failure_text, materializations_of, run_assets, run_setup

GENERATION = ["generation_prompt", "generation_response"]
EVALUATION = ["evaluation_prompt", "evaluation_response"]


def seed_defs(data_root: Path, level: str = "sentence"):
    config = ExperimentConfig(
        k_max=2,
        concept_ids_filter=SEED_CONCEPTS,
        template_names_filter=SEED_TEMPLATES,
        description_level=level,
    )
    return build_definitions(data_root=str(data_root), experiment_config=config)


def models_table(data_root: Path, name: str) -> pd.DataFrame:
    table = pd.read_csv(data_root / "01_raw" / name)
    return table[table["active"].astype(str).str.lower() == "true"].set_index("model")


def test_full_seed_selection_end_to_end(data_root, llm_env, instance, tmp_path):
    defs = seed_defs(data_root, level="sentence")
    layout = DataLayout(data_root)
    run_setup(defs, instance)

    gen_tasks = pd.read_csv(layout.tasks / "generation_tasks.csv")
    eval_tasks = pd.read_csv(layout.tasks / "evaluation_tasks.csv")
    assert len(gen_tasks) == 12
    judges = models_table(data_root, "evaluation_models.csv")
    templates = pd.read_csv(data_root / "01_raw" / "evaluation_templates.csv")
    n_eval_templates = int((templates["active"].astype(str).str.lower() == "true").sum())
    assert len(eval_tasks) == 12 * n_eval_templates * len(judges)
    assert {"generation_task_id", "combo_id", "generation_template", "generation_model"} <= set(
        gen_tasks.columns
    )
    assert {
        "evaluation_task_id",
        "generation_task_id",
        "evaluation_template",
        "evaluation_model",
    } <= set(eval_tasks.columns)
    seed_key = "combo_001_02_problem_solving_deepseek/deepseek-r1:free"
    assert seed_key in set(gen_tasks["generation_task_id"])
    assert sorted(instance.get_dynamic_partitions("generation_tasks")) == sorted(
        gen_tasks["generation_task_id"]
    )
    assert len(instance.get_dynamic_partitions("evaluation_tasks")) == len(eval_tasks)

    for key in gen_tasks["generation_task_id"]:
        run_assets(defs, instance, GENERATION, partition_key=key)
    for key in eval_tasks["evaluation_task_id"]:
        run_assets(defs, instance, EVALUATION, partition_key=key)
    run_assets(defs, instance, ["parsed_scores", "final_results"])

    # Files are flat, one per partition, with a call record beside each response.
    responses = sorted(layout.generation_responses.glob("*.txt"))
    assert len(responses) == 12
    assert all(p.parent == layout.generation_responses for p in responses)
    record = json.loads(record_path(layout.generation_responses, seed_key).read_text())
    assert record["requested_model"] == "deepseek/deepseek-r1:free"
    assert record["finish_reason"] == "stop" and record["truncated"] is False
    assert record["total_tokens"] > 0 and record["latency_s"] >= 0
    assert record["cost_usd"] == 0.0 and record["cost_source"] == "reported"  # a ":free" model
    judge_key = eval_tasks[eval_tasks.evaluation_model == "google/gemini-2.5-flash"].iloc[0, 0]
    judged = json.loads(record_path(layout.evaluation_responses, judge_key).read_text())
    assert judged["cost_usd"] > 0 and judged["cost_source"] == "reported"
    assert len(list(layout.evaluation_responses.glob("*.txt"))) == len(eval_tasks)

    # Temperature and max_tokens from the models CSVs reached the server.
    generators = models_table(data_root, "generation_models.csv")
    for model in generators.index:
        sent = llm_env.requests_for(model)
        assert len(sent) == 6
        assert {r.temperature for r in sent} == {float(generators.at[model, "temperature"])}
        assert {r.max_tokens for r in sent} == {int(generators.at[model, "max_tokens"])}
    for model in judges.index:
        sent = llm_env.requests_for(model)
        assert len(sent) == 12 * n_eval_templates
        assert {r.temperature for r in sent} == {float(judges.at[model, "temperature"])}
        assert {r.max_tokens for r in sent} == {int(judges.at[model, "max_tokens"])}
    assert {r.headers["authorization"] for r in llm_env.requests} == {f"Bearer {TEST_API_KEY}"}

    # Prompts carry the concept descriptions at the configured level, not another level.
    concepts = {c.concept_id: c for c in load_concepts(layout.concepts_file)}
    prompt = text_path(layout.generation_prompts, seed_key).read_text()
    combo = pd.read_csv(layout.tasks / "content_combinations.csv")
    for concept_id in combo[combo.combo_id == "combo_001"]["concept_id"]:
        assert concepts[concept_id].descriptions["sentence"] in prompt
        assert concepts[concept_id].descriptions["paragraph"] not in prompt
    # The judge saw the generation answer it judges.
    first_eval = eval_tasks.iloc[0]
    eval_prompt = text_path(layout.evaluation_prompts, first_eval.evaluation_task_id).read_text()
    answer = text_path(layout.generation_responses, first_eval.generation_task_id).read_text()
    assert answer.strip() in eval_prompt

    parsed = pd.read_csv(layout.parsing / "parsed_scores.csv")
    assert list(parsed.columns[:9]) == [
        "evaluation_task_id",
        "generation_task_id",
        "combo_id",
        "generation_template",
        "generation_model",
        "evaluation_template",
        "evaluation_model",
        "score",
        "error",
    ]
    assert len(parsed) == len(eval_tasks)
    assert parsed["score"].notna().all() and parsed["error"].isna().all()
    assert parsed["score"].between(0, 10).all()

    by_model = pd.read_csv(layout.summary / "by_generation_model.csv")
    assert set(by_model["generation_model"]) == set(generators.index)
    assert {"n_scored", "mean", "std", "min", "max", "n_high"} <= set(by_model.columns)
    assert by_model["n_scored"].sum() == len(eval_tasks)
    # Each mean comes with its 95% interval, lower bound below, upper bound above.
    assert (by_model["ci95_low"] <= by_model["mean"]).all()
    assert (by_model["mean"] <= by_model["ci95_high"]).all()
    agreement = pd.read_csv(layout.summary / "judge_agreement.csv")
    assert len(agreement) == n_eval_templates  # one pair of judges per evaluation template
    assert (agreement["n_items"] == 12).all() and agreement["spearman"].between(-1, 1).all()
    bias = pd.read_csv(layout.summary / "judge_bias.csv")
    assert set(bias["judge"]) == set(judges.index) and (bias["n_items"] == 12).all()
    consensus = pd.read_csv(layout.summary / "consensus_high.csv")
    assert (consensus["min_score"] >= 8).all()
    assert all(Path(p).exists() for p in consensus["generation_response_path"])
    top = pd.read_csv(layout.summary / "top_responses.csv")
    assert Path(top.iloc[0]["generation_response_path"]).exists()
    for name in ("by_generation_template", "by_combination", "by_evaluation_template"):
        assert (layout.summary / f"{name}.csv").exists()
    assert (layout.summary / "by_evaluation_model.csv").exists()

    # The key never reaches a data file, nor the instance (its SQLite files hold all metadata).
    assert files_containing(tmp_path, TEST_API_KEY) == []


def test_evaluation_before_generation_names_the_partition(data_root, llm_env, instance):
    defs = seed_defs(data_root)
    run_setup(defs, instance)
    eval_tasks = pd.read_csv(DataLayout(data_root).tasks / "evaluation_tasks.csv")
    task = eval_tasks.iloc[0]
    result = run_assets(
        defs, instance, EVALUATION, partition_key=task.evaluation_task_id, raise_on_error=False
    )
    assert not result.success
    message = failure_text(result)
    assert f'--partition "{task.generation_task_id}"' in message
    assert f"generation not ready: {task.generation_task_id} (not made yet)" in message
    assert llm_env.request_count == 0


def test_missing_key_fails_before_any_call(data_root, llm_env, instance, monkeypatch):
    monkeypatch.delenv("OPENROUTER_API_KEY")
    # A hosted endpoint needs a key (a local server does not); no request is ever sent.
    monkeypatch.setenv("OPENROUTER_BASE_URL", "https://openrouter.ai/api/v1")
    defs = seed_defs(data_root)
    run_setup(defs, instance)  # setup and prompts need no key
    key = pd.read_csv(DataLayout(data_root).tasks / "generation_tasks.csv").iloc[0, 0]
    run_assets(defs, instance, ["generation_prompt"], partition_key=key)
    result = run_assets(defs, instance, GENERATION, partition_key=key, raise_on_error=False)
    assert not result.success
    assert "OPENROUTER_API_KEY is not set" in failure_text(result)
    assert ".env" in failure_text(result)
    assert llm_env.request_count == 0


@pytest.mark.parametrize(
    "fault,expected",
    [
        (Fault(kind="empty"), "empty"),
        (Fault(kind="null_content"), "empty"),
        (Fault(kind="status", status=404, message="No such model"), "HTTP 404"),
    ],
)
def test_unusable_answers_are_never_stored(data_root, llm_env, instance, fault, expected):
    defs = seed_defs(data_root)
    run_setup(defs, instance)
    layout = DataLayout(data_root)
    key = pd.read_csv(layout.tasks / "generation_tasks.csv").iloc[0, 0]
    llm_env.script([fault])
    result = run_assets(defs, instance, GENERATION, partition_key=key, raise_on_error=False)
    assert not result.success
    assert expected in failure_text(result)
    assert not text_path(layout.generation_responses, key).exists()
    assert not record_path(layout.generation_responses, key).exists()
    # A later run succeeds and stores the answer.
    run_assets(defs, instance, GENERATION, partition_key=key)
    assert text_path(layout.generation_responses, key).read_text().strip()


def test_truncated_answer_is_flagged(data_root, llm_env, instance):
    defs = seed_defs(data_root)
    run_setup(defs, instance)
    layout = DataLayout(data_root)
    key = pd.read_csv(layout.tasks / "generation_tasks.csv").iloc[0, 0]
    llm_env.script([Fault(kind="length")])
    result = run_assets(defs, instance, GENERATION, partition_key=key)
    assert json.loads(record_path(layout.generation_responses, key).read_text())["truncated"]
    materialization = materializations_of(result, "generation_response")[0]
    assert materialization.metadata["truncated"].value is True


def test_unparseable_and_missing_evaluations_get_errors_not_scores(data_root, llm_env, instance):
    defs = seed_defs(data_root)
    run_setup(defs, instance)
    layout = DataLayout(data_root)
    gen_key = pd.read_csv(layout.tasks / "generation_tasks.csv").iloc[0, 0]
    run_assets(defs, instance, GENERATION, partition_key=gen_key)
    eval_tasks = pd.read_csv(layout.tasks / "evaluation_tasks.csv")
    mine = eval_tasks[eval_tasks.generation_task_id == gen_key]["evaluation_task_id"].tolist()
    llm_env.script([Fault(kind="text", content="Novelty: 1/1\nI cannot decide on a score.")])
    run_assets(defs, instance, EVALUATION, partition_key=mine[0])
    run_assets(defs, instance, EVALUATION, partition_key=mine[1])
    run_assets(defs, instance, ["parsed_scores", "final_results"])
    parsed = pd.read_csv(layout.parsing / "parsed_scores.csv").set_index("evaluation_task_id")
    assert len(parsed) == len(eval_tasks)
    assert pd.isna(parsed.at[mine[0], "score"]) and "no 'SCORE" in parsed.at[mine[0], "error"]
    assert parsed.at[mine[1], "score"] >= 0 and pd.isna(parsed.at[mine[1], "error"])
    missing = parsed.drop(index=mine[:2])
    assert missing["score"].isna().all()
    assert missing["error"].str.contains("no evaluation response yet").all()
