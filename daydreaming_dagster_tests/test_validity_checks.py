"""A leaked hint or a post-cut-off generator stops the experiment before any model is called."""

import json

import pandas as pd
from dagster import AssetKey

from daydreaming_dagster.data_layout import DataLayout

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
