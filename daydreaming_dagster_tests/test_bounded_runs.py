"""``daydreaming run`` cuts its work into Dagster runs of a bounded size (memory stays bounded at
any scale), and judging alongside still waits for generations whose run does not exist yet.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from daydreaming_dagster.mock_llm_server import MockLLMServer

from .conftest import SEED_CONCEPTS, SEED_TEMPLATES, TEST_API_KEY, make_project, own_environment

DAYDREAMING = Path(sys.executable).parent / "daydreaming"
RUN_PARTITIONS = 4


@pytest.fixture
def slow_mock():
    with MockLLMServer(latency_s=0.2) as server:
        yield server


def run_command(project: Path, mock: MockLLMServer, **extra_env: str):
    env = own_environment()
    env.update(OPENROUTER_BASE_URL=mock.base_url, OPENROUTER_API_KEY=TEST_API_KEY, **extra_env)
    command = [str(DAYDREAMING), "run", "--k-max", "2", "--concepts", ",".join(SEED_CONCEPTS),
               "--templates", ",".join(SEED_TEMPLATES)]  # fmt: skip
    return subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=300
    )


def runs_by_step(home: Path) -> dict[str, list]:
    os.environ["DAGSTER_HOME"] = str(home)  # the project's dagster.yaml locates storage by it
    try:
        with DagsterInstance.from_config(str(home)) as instance:
            runs = instance.get_runs()
    finally:
        del os.environ["DAGSTER_HOME"]
    found: dict[str, list] = {"generation_llm": [], "evaluation_llm": []}
    for run in runs:
        for step in found.keys() & set(run.step_keys_to_execute or ()):
            found[step].append(run)
    return found


def test_runs_are_cut_to_size_and_judging_waits_for_later_generation_runs(tmp_path, slow_mock):
    project = make_project(tmp_path / "project")
    result = run_command(project, slow_mock, DAYDREAMING_RUN_PARTITIONS=str(RUN_PARTITIONS))
    assert result.returncode == 0, result.stdout + result.stderr
    evaluations = len(pd.read_csv(project / "data" / "02_tasks" / "evaluation_tasks.csv"))
    assert "generation: 12 called, 0 reused without a call, 0 failed" in result.stdout
    assert f"evaluation: {evaluations} called, 0 reused without a call, 0 failed" in result.stdout
    assert slow_mock.request_count == 12 + evaluations

    runs = runs_by_step(project / "dagster_home")
    # 12 generations in runs of 4, started one after another while the judging process was
    # already judging (evaluations of later runs' generations wait for them: the promise in
    # assets.generation_watch, unit-tested there), and 48 evaluations in runs of 4.
    assert len(runs["generation_llm"]) == 12 // RUN_PARTITIONS
    assert len(runs["evaluation_llm"]) == evaluations // RUN_PARTITIONS
    every_run = runs["generation_llm"] + runs["evaluation_llm"]
    assert {run.status for run in every_run} == {DagsterRunStatus.SUCCESS}
    scores = pd.read_csv(project / "data" / "05_parsing" / "parsed_scores.csv")
    assert scores["score"].notna().sum() == evaluations


def test_a_bad_run_size_is_said_in_a_line(tmp_path, slow_mock):
    project = make_project(tmp_path / "project")
    result = run_command(project, slow_mock, DAYDREAMING_RUN_PARTITIONS="many")
    assert result.returncode == 2
    assert "DAYDREAMING_RUN_PARTITIONS='many' must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr
    assert slow_mock.request_count == 0
