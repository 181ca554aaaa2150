"""A leaked hint or a post-cut-off generator stops the experiment before any model is called."""

import json

import pandas as pd
from dagster import AssetKey

from daydreaming_dagster.definitions import build_definitions
from daydreaming_dagster.records.data_layout import DataLayout
from daydreaming_dagster.resources.llm_client import LLMClientResource

from .pipeline_runner import failure_text, run_assets, run_setup
from .test_pipeline import GENERATION, seed_defs


def plant_leak_in_concept(data_root, concept_id: str, level: str) -> None:
    path = data_root / "01_raw" / "concepts" / "day_dreaming_concepts.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    for concept in data["concepts"]:
        if concept["concept_id"] == concept_id:
            concept["descriptions"][level] += " It keeps a Daydreaming Loop running at night."
    path.write_text(json.dumps(data), encoding="utf-8")


def make_generator_late(data_root, release_date: str = "2025-07-01") -> str:
    path = data_root / "01_raw" / "generation_models.csv"
    models = pd.read_csv(path, dtype=str, keep_default_na=False)
    models.loc[0, "release_date"] = release_date
    models.to_csv(path, index=False)
    return models.loc[0, "model"]


def evaluations(result) -> dict[str, tuple[bool, str]]:
    return {e.check_name: (e.passed, e.description) for e in result.get_asset_check_evaluations()}


def test_a_leaked_hint_in_a_concept_blocks_the_task_tables(data_root, llm_env, instance):
    plant_leak_in_concept(data_root, "default-mode-network", "sentence")
    result = run_assets(
        seed_defs(data_root),
        instance,
        ["concepts", "concepts_metadata", "content_combinations", "generation_tasks"],
        raise_on_error=False,
    )
    passed, description = evaluations(result)["concepts_do_not_leak_the_idea"]
    assert not passed
    assert "default-mode-network" in description and "daydreaming loop" in description
    assert not (DataLayout(data_root).tasks / "generation_tasks.csv").exists()
    assert llm_env.request_count == 0


def test_the_shipped_inputs_pass_every_check(data_root, llm_env, instance):
    result = run_setup(seed_defs(data_root), instance)
    checks = evaluations(result)
    assert set(checks) == {
        "concepts_do_not_leak_the_idea",
        "templates_do_not_leak_the_idea",
        "generators_predate_the_cutoff",
    }
    assert all(passed for passed, _ in checks.values()), checks


def test_generation_refuses_to_call_a_late_model_even_without_the_checks(
    data_root, llm_env, instance
):
    defs = seed_defs(data_root)
    run_setup(defs, instance)
    late = make_generator_late(data_root)
    # Store the new models table (its own blocking check fails, but the table is stored and the
    # generation tasks still exist from the valid setup), then try to generate anyway.
    run_assets(defs, instance, ["generation_models"], raise_on_error=False)
    key = instance.get_dynamic_partitions("generation_tasks")[0]
    result = run_assets(defs, instance, GENERATION, partition_key=key, raise_on_error=False)
    assert not result.success
    assert "No model was called" in failure_text(result) and late in failure_text(result)
    assert llm_env.request_count == 0
    assert not instance.get_materialized_partitions(AssetKey("generation_response"))


def test_unreadable_scores_raise_a_parse_health_warning_not_a_failure(data_root, llm_env, instance):
    defs = seed_defs(data_root)
    run_setup(defs, instance)
    llm_env.set_fixed_response("SCORE:", "A thoughtful review, but I will not give a number.")
    key = instance.get_dynamic_partitions("generation_tasks")[0]
    run_assets(defs, instance, GENERATION, partition_key=key)
    tasks = pd.read_csv(DataLayout(data_root).tasks / "evaluation_tasks.csv")
    for eval_key in tasks[tasks.generation_task_id == key].evaluation_task_id:
        run_assets(defs, instance, ["evaluation_prompt", "evaluation_response"], eval_key)
    result = run_assets(defs, instance, ["parsed_scores", "final_results"])
    assert result.success  # a warning, not a blocking failure
    passed, description = evaluations(result)["parse_health_is_good"]
    assert not passed
    assert "4 of 4 judge answers (100%) have no readable score" in description


def test_calibration_scores_every_control_and_warns_when_a_control_rivals_the_full_loop(
    data_root, llm_env, instance
):
    defs = seed_defs(data_root)
    run_setup(defs, instance)
    llm_env.set_fixed_response("Idle-Cycle Discovery Engine", "Strong.\nSCORE: 9")
    llm_env.set_fixed_response("Protected Bicycle-Lane", "Off topic.\nSCORE: 1")
    llm_env.set_fixed_response("SCORE:", "Partly there.\nSCORE: 4")
    result = run_assets(defs, instance, ["calibration_scores"])
    scores = pd.read_csv(DataLayout(data_root).parsing / "calibration_scores.csv")
    judges = pd.read_csv(data_root / "01_raw" / "evaluation_models.csv")
    n_judges = int((judges["active"].astype(str).str.lower() == "true").sum())
    assert len(scores) == 4 * 2 * n_judges  # controls x active templates x active judges
    assert llm_env.request_count == len(scores)
    full = scores[scores.control == "full_loop"]["score"]
    assert (full == 9).all()
    passed, description = evaluations(result)["judges_rank_the_full_loop_control_first"]
    assert passed, description

    # Now every judge finds the off-topic control as good: the check warns, naming them.
    llm_env.reset()
    llm_env.set_fixed_response("Idle-Cycle Discovery Engine", "Strong.\nSCORE: 9")
    llm_env.set_fixed_response("Protected Bicycle-Lane", "Also strong.\nSCORE: 8.5")
    forced = build_definitions(
        data_root=str(data_root),
        experiment_config=defs.resources["experiment_config"],
        llm=LLMClientResource(reuse_stored_responses=False),
    )
    result = run_assets(forced, instance, ["calibration_scores"])
    assert result.success  # a warning, not a failure
    passed, description = evaluations(result)["judges_rank_the_full_loop_control_first"]
    assert not passed
    assert "full_loop 9 is not 2 points above off_topic 8.5" in description
    assert set(judges.loc[judges["active"].astype(str).str.lower() == "true", "model"]) <= {
        part.split(" on ")[0] for part in description.split("; ")
    }
