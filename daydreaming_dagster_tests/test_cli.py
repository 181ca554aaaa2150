"""The README's commands as a user types them, in a throw-away copy of the project.

``daydreaming run`` and the seed's ``dagster asset materialize`` steps run as real processes with
no DAGSTER_HOME set, talking to the local mock server over HTTP.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance

from .conftest import (
    BIN,
    DEFINITIONS,
    REPO_ROOT,
    SEED_CONCEPTS,
    SEED_TEMPLATES,
    TEST_API_KEY,
    files_containing,
    make_project,
    own_environment,
)

SETUP = (
    "concepts,concepts_metadata,generation_models,evaluation_models,generation_templates,"
    "evaluation_templates,content_combinations,generation_tasks,evaluation_tasks"
)
SEED_CONFIG = {
    "resources": {
        "experiment_config": {
            "config": {
                "k_max": 2,
                "concept_ids_filter": SEED_CONCEPTS,
                "template_names_filter": SEED_TEMPLATES,
            }
        }
    }
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder laid out like a fresh clone: raw data, instance config, empty home."""
    return make_project(tmp_path / "project")


def run(project: Path, mock_llm, *args: str, key: str | None = TEST_API_KEY):
    env = own_environment()
    env["OPENROUTER_BASE_URL"] = mock_llm.base_url
    if key:
        env["OPENROUTER_API_KEY"] = key
    return subprocess.run(
        list(args), cwd=project, env=env, capture_output=True, text=True, timeout=300
    )


def seed_run_command(templates: list[str]) -> list[str]:
    """``daydreaming run`` on the seed's concepts with k_max=2 and the given templates."""
    concepts = ",".join(SEED_CONCEPTS)
    return [str(BIN / "daydreaming"), "run", "--k-max", "2", "--concepts", concepts,
            "--templates", ",".join(templates)]  # fmt: skip


def estimate_totals(stdout: str) -> dict[str, int]:
    """Tasks, done, stale and calls from the estimate table's total row."""
    fields = next(line for line in stdout.splitlines() if line.startswith("total")).split()
    return dict(zip(["tasks", "done", "stale", "calls"], map(int, fields[1:5]), strict=True))


def test_daydreaming_run_seed_selection_then_resume(project, mock_llm):
    command = seed_run_command(SEED_TEMPLATES)
    estimate_command = [command[0], "estimate", *command[2:]]
    before = run(project, mock_llm, *estimate_command)
    assert before.returncode == 0, before.stdout + before.stderr
    assert estimate_totals(before.stdout) == {"tasks": 60, "done": 0, "stale": 0, "calls": 60}
    assert "google/gemini-2.5-flash" in before.stdout and "$" in before.stdout
    assert mock_llm.request_count == 0  # estimating calls no model

    first = run(project, mock_llm, *command)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "generation: 12 called, 0 reused without a call, 0 failed" in first.stdout
    evaluations = len(pd.read_csv(project / "data" / "02_tasks" / "evaluation_tasks.csv"))
    assert f"evaluation: {evaluations} called, 0 reused without a call, 0 failed" in first.stdout
    assert "Best generations" in first.stdout and "Spent in this run: $" in first.stdout
    assert "google/gemini-2.5-flash" in first.stdout.split("per model:")[1]
    assert mock_llm.request_count == 12 + evaluations
    assert len(pd.read_csv(project / "data" / "05_parsing" / "parsed_scores.csv")) == evaluations

    # The runs live in ./dagster_home, so the UI (same instance) shows them.
    home = project / "dagster_home"
    os.environ["DAGSTER_HOME"] = str(home)  # the instance's event log is located through it
    try:
        instance = DagsterInstance.from_config(str(home))
    finally:
        del os.environ["DAGSTER_HOME"]
    with instance:
        assert len(instance.get_dynamic_partitions("generation_tasks")) == 12
        assert instance.get_runs_count() >= 3

    again = run(project, mock_llm, *command)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "generation: nothing to do" in again.stdout
    assert "evaluation: nothing to do" in again.stdout
    assert "Scores and summaries are up to date" in again.stdout
    assert mock_llm.request_count == 12 + evaluations  # nothing paid twice
    after = run(project, mock_llm, *estimate_command)
    assert estimate_totals(after.stdout) == {"tasks": 60, "done": 60, "stale": 0, "calls": 0}
    assert files_containing(project, TEST_API_KEY) == []

    forced = run(project, mock_llm, *command, "--templates", SEED_TEMPLATES[0], "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    # --force calls again what the first template's tasks asked: 6 generations, 24 evaluations.
    assert mock_llm.request_count == 12 + evaluations + 6 + evaluations // 2


def test_a_post_cutoff_generator_stops_the_run_before_any_call(project, mock_llm):
    path = project / "data" / "01_raw" / "generation_models.csv"
    models = pd.read_csv(path, dtype=str, keep_default_na=False)
    models.loc[0, "release_date"] = "2025-06-01"
    models.to_csv(path, index=False)
    result = run(project, mock_llm, *seed_run_command(SEED_TEMPLATES))
    assert result.returncode == 1
    assert "Stopped before any model call" in result.stderr
    assert f"{models.loc[0, 'model']} was released 2025-06-01" in result.stderr
    assert mock_llm.request_count == 0


def test_replicates_are_separate_calls_with_their_number_in_the_key(project, mock_llm):
    command = seed_run_command(SEED_TEMPLATES[:1])
    result = run(project, mock_llm, *command, "--generation-replicates", "2",
                 "--evaluation-replicates", "2")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    tasks = pd.read_csv(project / "data" / "02_tasks" / "generation_tasks.csv")
    assert len(tasks) == 12 and set(tasks.replicate) == {1, 2}
    assert tasks.generation_task_id.str.endswith(("_r1", "_r2")).all()
    evaluations = pd.read_csv(project / "data" / "02_tasks" / "evaluation_tasks.csv")
    assert len(evaluations) == 12 * 2 * 2 * 2  # templates x judges x replicates
    # Replicates repeat the same prompt on purpose: none may be answered from another's cache.
    assert mock_llm.request_count == len(tasks) + len(evaluations)
    spread = pd.read_csv(project / "data" / "06_summary" / "replicate_spread.csv")
    assert (spread.n_replicates == 2).all()
    assert {"mean", "std_between_replicates"} <= set(spread.columns)


def test_max_cost_stops_before_the_cap(project, mock_llm):
    # Only gemini-2.5-flash has a price (0.30 / 2.50 USD per M tokens, max_tokens 4096): each of
    # its calls reserves about $0.011 as its worst case and costs about $0.001, so a $0.02 cap
    # admits some of its 24 calls and refuses the rest.
    result = run(project, mock_llm, *seed_run_command(SEED_TEMPLATES), "--max-cost", "0.02")
    assert result.returncode == 3  # the exit code of a budget stop
    assert "budget: not attempted" in result.stdout
    spent = float(result.stdout.split("Spent in this run: $")[1].split()[0])
    assert 0 < spent <= 0.02
    gemini = mock_llm.requests_for("google/gemini-2.5-flash")
    assert 0 < len(gemini) < 24


def test_daydreaming_run_reports_failures_and_exits_nonzero(project, mock_llm):
    mock_llm.fail_always("gemma", 404, "No endpoints found for this model")
    result = run(project, mock_llm, *seed_run_command(SEED_TEMPLATES[:1]))
    assert result.returncode == 1
    assert "generation: 3 called, 0 reused without a call, 3 failed" in result.stdout
    assert "HTTP 404" in result.stdout
    assert "generation not ready: " in result.stdout  # evaluations of the failed generations
    # An unknown model fails fast: one request per partition at most, never a retry (the three
    # start together; any call not yet started after the first 404 is not made at all).
    assert len(mock_llm.requests_for("google/gemma-3-27b-it:free")) <= 3
    # The successful generations and their evaluations were kept.
    responses = list((project / "data" / "03_generation" / "generation_responses").glob("*.txt"))
    assert len(responses) == 3


def test_seed_cli_steps_without_dagster_home(project, mock_llm):
    dagster = str(BIN / "dagster")
    step1 = run(
        project,
        mock_llm,
        dagster,
        "asset",
        "materialize",
        "--select",
        SETUP,
        "-f",
        DEFINITIONS,
        "--config-json",
        json.dumps(SEED_CONFIG),
    )
    assert step1.returncode == 0, step1.stderr[-3000:]
    tasks = pd.read_csv(project / "data" / "02_tasks" / "generation_tasks.csv")
    assert len(tasks) == 12

    step2 = run(
        project, mock_llm, dagster, "asset", "materialize", "--select", "task_definitions",
        "-f", DEFINITIONS,
    )  # fmt: skip
    assert step2.returncode == 0, step2.stderr[-3000:]

    key = "combo_001_02_problem_solving_deepseek/deepseek-r1:free"
    step3 = run(
        project, mock_llm, dagster, "asset", "materialize", "--select",
        "generation_prompt,generation_response", "--partition", key, "-f", DEFINITIONS,
    )  # fmt: skip
    assert step3.returncode == 0, step3.stderr[-3000:]
    evaluations = pd.read_csv(project / "data" / "02_tasks" / "evaluation_tasks.csv")
    eval_key = evaluations[evaluations.generation_task_id == key].iloc[0].evaluation_task_id
    step3e = run(
        project, mock_llm, dagster, "asset", "materialize", "--select",
        "evaluation_prompt,evaluation_response", "--partition", eval_key, "-f", DEFINITIONS,
    )  # fmt: skip
    assert step3e.returncode == 0, step3e.stderr[-3000:]

    step4 = run(
        project, mock_llm, dagster, "asset", "materialize", "--select",
        "parsed_scores,final_results", "-f", DEFINITIONS,
    )  # fmt: skip
    assert step4.returncode == 0, step4.stderr[-3000:]
    parsed = pd.read_csv(project / "data" / "05_parsing" / "parsed_scores.csv")
    assert parsed["score"].notna().sum() == 1
    assert mock_llm.request_count == 2
    assert (project / "dagster_home" / "history" / "runs.db").exists()
    assert not list(project.glob(".tmp_dagster_home_*"))


def readme_commands(heading: str, starts: str) -> list[list[str]]:
    """The commands of the README's first bash block after ``heading`` that begin with
    ``starts`` (after any VAR=value settings, which the test gives through the environment),
    as argument lists with ``uv run X`` as this environment's X."""
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split(heading, 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        while words and "=" in words[0] and not words[0].startswith("-"):
            words = words[1:]
        if " ".join(words).startswith(starts):
            commands.append([str(BIN / words[2]), *words[3:]])
    return commands


@pytest.mark.slow  # the mock example's 150 calls and five Dagster commands; CI runs it
def test_the_readmes_mock_example_then_the_seeds_steps_in_the_readmes_order(project, mock_llm):
    """Followed in order, the README's commands work verbatim: the mock example registers the
    default experiment's combinations, so the seed's step 3 keys exist and are already done."""
    example = readme_commands("No key yet?", "uv run daydreaming run")
    steps = readme_commands("### 2. Step by step", "uv run dagster asset materialize")
    assert len(example) == 1 and len(steps) == 5
    (project / "daydreaming_dagster").symlink_to(REPO_ROOT / "daydreaming_dagster")  # -f PATH
    for command in example + steps:
        result = run(project, mock_llm, *command)
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])
    assert mock_llm.request_count == 150  # the seed's steps reused the example's answers
