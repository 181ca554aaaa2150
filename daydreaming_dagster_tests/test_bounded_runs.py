"""``daydreaming run`` cuts its work into Dagster runs of a bounded size (memory stays bounded at
any scale), and judging alongside still waits for generations whose run does not exist yet.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from daydreaming_dagster.assets.generation_watch import PID_TAG
from daydreaming_dagster.mock_llm_server import MockLLMServer
from daydreaming_dagster.orchestration.judging_processes import RUNS_PER_PROCESS

from .conftest import SEED_CONCEPTS, SEED_TEMPLATES, TEST_API_KEY, make_project

DAYDREAMING = Path(sys.executable).parent / "daydreaming"
RUN_PARTITIONS = 4


@pytest.fixture
def slow_mock():
    with MockLLMServer(latency_s=0.2) as server:
        yield server


def run_command(project: Path, mock: MockLLMServer, **extra_env: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "OPENROUTER_"))}
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


def test_a_large_judging_is_done_by_a_crew_of_processes_each_making_a_bounded_number_of_runs(
    tmp_path, slow_mock
):
    # 48 evaluations in runs of 2 are 24 runs: more than two processes may make with a budget
    # of RUNS_PER_PROCESS (8) runs each, so a crew judges them (orchestration.judging_processes).
    project = make_project(tmp_path / "project")
    result = run_command(project, slow_mock, DAYDREAMING_RUN_PARTITIONS="2")
    assert result.returncode == 0, result.stdout + result.stderr
    evaluations = len(pd.read_csv(project / "data" / "02_tasks" / "evaluation_tasks.csv"))
    assert evaluations // 2 > 2 * RUNS_PER_PROCESS
    assert f"evaluation: {evaluations} called, 0 reused without a call, 0 failed" in result.stdout
    assert slow_mock.request_count == 12 + evaluations  # every call once: no chunk judged twice

    runs = runs_by_step(project / "dagster_home")["evaluation_llm"]
    assert len(runs) == evaluations // 2
    assert {run.status for run in runs} == {DagsterRunStatus.SUCCESS}
    runs_per_pid = Counter(run.tags[PID_TAG] for run in runs)
    # The main process and at least two judging processes (the first one spent its budget and
    # was replaced), none of them over its budget.
    assert len(runs_per_pid) >= 3, runs_per_pid
    assert max(runs_per_pid.values()) <= RUNS_PER_PROCESS, runs_per_pid
    scores = pd.read_csv(project / "data" / "05_parsing" / "parsed_scores.csv")
    assert scores["score"].notna().sum() == evaluations
