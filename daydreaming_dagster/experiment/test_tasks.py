import pandas as pd
import pytest

from daydreaming_dagster.experiment.combinations import make_combinations
from daydreaming_dagster.experiment.model_tables import active_only, parse_active
from daydreaming_dagster.experiment.tasks import build_evaluation_tasks, build_generation_tasks

GEN_MODELS = pd.DataFrame(
    {
        "model": ["deepseek/deepseek-r1:free", "google/gemma-3-27b-it:free"],
        "short_name": ["r1", "gemma"],
        "temperature": [0.7, 0.5],
        "max_tokens": [100, 200],
    }
)
JUDGES = pd.DataFrame(
    {"model": ["j/one", "j/two"], "short_name": ["j1", "j2"], "temperature": [0.0, 0.0]}
    | {"max_tokens": [50, 60]}
)


def test_seed_selection_gives_twelve_generation_tasks_with_seed_keys():
    combos = make_combinations(["dearth", "dmn", "creat"], 2)
    tasks = build_generation_tasks(
        combos, ["00_systematic_analytical", "02_problem_solving"], GEN_MODELS
    )
    assert len(tasks) == 12
    assert "combo_001_02_problem_solving_deepseek/deepseek-r1:free" in set(tasks.generation_task_id)
    row = tasks.set_index("generation_task_id").loc[
        "combo_003_00_systematic_analytical_google/gemma-3-27b-it:free"
    ]
    assert (row.combo_id, row.temperature, row.max_tokens) == ("combo_003", 0.5, 200)


def test_default_experiment_size():
    combos = make_combinations(list("abcdef"), 4)
    templates = [f"0{i}_t" for i in range(5)]
    gen = build_generation_tasks(combos, templates, GEN_MODELS)
    assert len(gen) == 150
    ev = build_evaluation_tasks(gen, ["rubric", "creativity"], JUDGES)
    assert len(ev) == 600
    first = ev.iloc[0]
    assert first.evaluation_task_id == f"{first.generation_task_id}_rubric_j/one"
    assert (first.evaluation_model_name, first.max_tokens) == ("j1", 50)


def test_active_parsing_and_requirement():
    assert parse_active(pd.Series(["true", "FALSE", "1", " yes ", None]), "x").tolist() == [
        True,
        False,
        True,
        True,
        False,
    ]
    with pytest.raises(ValueError, match="true or false"):
        parse_active(pd.Series(["maybe"]), "models.csv")
    with pytest.raises(ValueError, match="No active judges"):
        active_only(pd.DataFrame({"active": [False]}), "judges")


def test_replicates_get_their_number_in_the_key_and_one_keeps_the_seed_keys():
    combos = make_combinations(["dearth", "dmn", "creat"], 2)
    single = build_generation_tasks(combos, ["02_problem_solving"], GEN_MODELS)
    assert set(single.replicate) == {1}
    assert "combo_001_02_problem_solving_deepseek/deepseek-r1:free" in set(
        single.generation_task_id
    )
    triple = build_generation_tasks(combos, ["02_problem_solving"], GEN_MODELS, replicates=3)
    assert len(triple) == 3 * len(single)
    assert "combo_001_02_problem_solving_deepseek/deepseek-r1:free_r2" in set(
        triple.generation_task_id
    )
    judged = build_evaluation_tasks(triple.head(1), ["rubric"], JUDGES, replicates=2)
    assert list(judged.evaluation_task_id) == [
        f"{triple.generation_task_id.iloc[0]}_rubric_j/one_r1",
        f"{triple.generation_task_id.iloc[0]}_rubric_j/one_r2",
        f"{triple.generation_task_id.iloc[0]}_rubric_j/two_r1",
        f"{triple.generation_task_id.iloc[0]}_rubric_j/two_r2",
    ]
    with pytest.raises(ValueError, match="at least 1"):
        build_generation_tasks(combos, ["t"], GEN_MODELS, replicates=0)
