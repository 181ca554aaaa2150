"""The definitions load, and the seed's asset names, groups and wiring stay as users type them."""

from dagster import AssetKey, BackfillPolicy

from daydreaming_dagster.definitions import defs

EXPECTED_GROUPS = {
    "concepts": "raw_data",
    "concepts_metadata": "raw_data",
    "generation_models": "raw_data",
    "evaluation_models": "raw_data",
    "generation_templates": "raw_data",
    "evaluation_templates": "raw_data",
    "content_combinations": "task_definitions",
    "generation_tasks": "task_definitions",
    "evaluation_tasks": "task_definitions",
    "task_definitions": "task_definitions",
    "generation_prompt": "llm_generation",
    "generation_response": "llm_generation",
    "evaluation_prompt": "llm_evaluation",
    "evaluation_response": "llm_evaluation",
    "parsed_scores": "results",
    "final_results": "results",
    "calibration_scores": "calibration",
}
EXPECTED_UPSTREAM = {
    "concepts_metadata": {"concepts"},
    "content_combinations": {"concepts_metadata"},
    "generation_tasks": {"content_combinations", "generation_templates", "generation_models"},
    "evaluation_tasks": {"generation_tasks", "evaluation_templates", "evaluation_models"},
    "task_definitions": {"generation_tasks", "evaluation_tasks"},
    "generation_prompt": {"generation_tasks", "content_combinations", "generation_templates"},
    # The models tables give each model's prices and concurrency limit.
    "generation_response": {"generation_prompt", "generation_tasks", "generation_models"},
    # An evaluation judges only the answer its generation task needs now (its prompt hash).
    "evaluation_prompt": {
        "evaluation_tasks",
        "evaluation_templates",
        "generation_response",
        "generation_tasks",
    },
    "evaluation_response": {"evaluation_prompt", "evaluation_tasks", "evaluation_models"},
    # Only done judgements are scored, decided from the task tables and the stored answers.
    "parsed_scores": {
        "evaluation_tasks",
        "evaluation_response",
        "generation_tasks",
        "content_combinations",
        "evaluation_templates",
    },
    "final_results": {"parsed_scores"},
}


def test_asset_names_and_groups_match_the_seed():
    graph = defs.resolve_asset_graph()
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups == EXPECTED_GROUPS


def test_dependencies():
    graph = defs.resolve_asset_graph()
    for name, upstream in EXPECTED_UPSTREAM.items():
        parents = {k.to_user_string() for k in graph.get(AssetKey(name)).parent_keys}
        assert parents == upstream, name


def test_partitioned_assets_use_the_two_dynamic_partition_sets():
    graph = defs.resolve_asset_graph()
    names = {
        key.to_user_string(): graph.get(key).partitions_def.name
        for key in graph.get_all_asset_keys()
        if graph.get(key).partitions_def is not None
    }
    assert names == {
        "generation_prompt": "generation_tasks",
        "generation_response": "generation_tasks",
        "evaluation_prompt": "evaluation_tasks",
        "evaluation_response": "evaluation_tasks",
    }


def test_llm_assets_run_many_partitions_per_run_in_the_llm_pool():
    graph = defs.resolve_asset_graph()
    for name in ("generation_prompt", "generation_response", "evaluation_response"):
        node = graph.get(AssetKey(name))
        assert node.backfill_policy == BackfillPolicy.single_run(), name
        assert node.pools == {"llm_api"}, name


def test_experiment_config_defaults_are_the_full_experiment():
    config = defs.resources["experiment_config"]
    assert (config.k_max, config.description_level) == (4, "paragraph")
    assert config.concept_ids_filter is None and config.template_names_filter is None
