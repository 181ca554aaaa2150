"""Failing the way a user needs: hung answers, no key, a dead endpoint, Ctrl-C, --version.

Each runs the real ``daydreaming`` command, as a user types it, against the local mock server
(or against nothing at all), and checks what the user sees: a few lines that name what to set,
no traceback, the documented exit code, and nothing paid twice when the run is resumed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections import Counter

import pytest

from daydreaming_dagster.mock_llm_server import Fault

from .conftest import (
    BIN,
    SEED_CONCEPTS,
    SEED_TEMPLATES,
    TEST_API_KEY,
    make_project,
    own_environment,
)
from .test_cli import run

PAIR_RUN = ["run", "--k-max", "2", "--concepts", ",".join(SEED_CONCEPTS)]
DAYDREAMING = str(BIN / "daydreaming")


@pytest.fixture
def project(tmp_path):
    return make_project(tmp_path / "project")


def clean_env(**values: str) -> dict[str, str]:
    env = own_environment()
    return {**env, **values}


def test_hung_first_attempts_are_retried_after_the_request_timeout(project, mock_llm):
    # 10% of the 150 first attempts hang for 300 s; each is given up after 5 s and retried.
    mock_llm.script([Fault(kind="slow", seconds=300) for _ in range(15)])
    started = time.monotonic()
    result = run(project, mock_llm, DAYDREAMING, *PAIR_RUN, "--request-timeout", "5")
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert elapsed <= 120
    assert mock_llm.pending_faults == 0
    answered = {(r.model, r.prompt) for r in mock_llm.answered_requests()}
    assert len(answered) == 30 + 120  # every answer


def test_no_key_for_a_hosted_endpoint_fails_in_a_few_lines(project):
    env = clean_env(OPENROUTER_BASE_URL="https://openrouter.ai/api/v1")
    result = subprocess.run(
        [DAYDREAMING, *PAIR_RUN], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert "OPENROUTER_API_KEY" in output and "Traceback" not in output
    assert len(output.strip().splitlines()) <= 12


def test_a_dead_endpoint_fails_in_a_few_lines(project):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    env = clean_env(OPENROUTER_BASE_URL=url, OPENROUTER_API_KEY=TEST_API_KEY)
    started = time.monotonic()
    result = subprocess.run(
        [DAYDREAMING, *PAIR_RUN], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2 and time.monotonic() - started < 120
    assert url in output and "OPENROUTER_BASE_URL" in output and "Traceback" not in output
    assert len(output.strip().splitlines()) <= 12


def test_an_unknown_model_is_named_with_close_ids_before_any_call(project, mock_llm):
    path = project / "data" / "01_raw" / "generation_models.csv"
    path.write_text(path.read_text().replace("deepseek-r1:free", "deepseek-r1-free"))
    # Against a local server a model it does not list is a warning (a hosted endpoint stops);
    # the mock answers any model, so the run itself goes on.
    result = run(project, mock_llm, DAYDREAMING, *PAIR_RUN, "--templates", SEED_TEMPLATES[0])
    assert "deepseek/deepseek-r1-free is not among the models" in result.stderr
    assert "did you mean deepseek/deepseek-r1:free" in result.stderr


def test_ctrl_c_stops_within_seconds_and_the_rerun_repeats_no_call(project, mock_llm):
    mock_llm.latency_s = 0.3
    env = clean_env(OPENROUTER_BASE_URL=mock_llm.base_url, OPENROUTER_API_KEY=TEST_API_KEY)
    process = subprocess.Popen(
        [DAYDREAMING, *PAIR_RUN],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    deadline = time.monotonic() + 60
    while mock_llm.request_count < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
    interrupted_at = time.monotonic()
    stdout, stderr = process.communicate(timeout=60)
    assert time.monotonic() - interrupted_at <= 15
    assert process.returncode != 0
    assert "Traceback" not in stdout + stderr and "KeyboardInterrupt" not in stdout + stderr
    assert "uv run daydreaming run" in stdout

    mock_llm.latency_s = 0.0
    again = run(project, mock_llm, DAYDREAMING, *PAIR_RUN)
    assert again.returncode == 0, again.stdout + again.stderr
    answered = [(r.model, r.prompt) for r in mock_llm.answered_requests()]
    assert [call for call, n in Counter(answered).items() if n > 1] == []


def test_version():
    result = subprocess.run([DAYDREAMING, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("daydreaming ")
