"""The whole pipeline against a real model: llama.cpp's llama-server with SmolLM2-135M-Instruct.

``daydreaming run`` runs as a real process in a throw-away project whose only active generator
and judge is the local model (no price, the weights' release date). The server is built once
by ``daydreaming local-server build``; without it this test is skipped,
unless DAYDREAMING_REQUIRE_REAL_SERVER=1 (as in CI), when it fails.
"""

from __future__ import annotations

import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from daydreaming_dagster.local_server import (
    BUILD_HINT,
    MODEL_NAME,
    LocalServer,
    LocalServerError,
    binary_path,
    find_binary,
    find_model,
    models_csv_row,
    running_server,
)
from daydreaming_dagster.records.data_layout import read_records

from .conftest import BIN, SEED_CONCEPTS, make_project, own_environment

pytestmark = pytest.mark.real_server

REQUIRE_ENV = "DAYDREAMING_REQUIRE_REAL_SERVER"
CONCEPTS = SEED_CONCEPTS[:2]  # with k_max 2: one combination
TEMPLATE = "02_problem_solving"
# Small answers keep the run to a minute or two on 2 CPU cores.
GENERATION_MAX_TOKENS = 192
EVALUATION_MAX_TOKENS = 128


def unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so this fails instead of skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def llama_server() -> Iterator[LocalServer]:
    binary = find_binary()
    if binary is None:
        unavailable(f"No llama-server binary at {binary_path()}. {BUILD_HINT}")
    try:
        find_model()
    except LocalServerError as exc:
        unavailable(str(exc))
    with running_server(binary) as server:
        yield server


def metric(server: LocalServer, name: str) -> float:
    """One counter from llama-server's Prometheus /metrics page."""
    with urllib.request.urlopen(f"{server.root_url}/metrics", timeout=10) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(f"llamacpp:{name} "):
                return float(line.split()[1])
    raise AssertionError(f"llamacpp:{name} is not on /metrics")


def server_token_counts(server: LocalServer) -> tuple[float, float]:
    """(prompt tokens, answer tokens) the server has handled since it started."""
    prompt = metric(server, "prompt_tokens_total") + metric(server, "prompt_tokens_cached_total")
    return prompt, metric(server, "tokens_predicted_total")


def only_the_local_model(path: Path, max_tokens: int) -> None:
    """Every other model switched off; the local one added with no price and its date."""
    models = pd.read_csv(path, dtype=str, keep_default_na=False)
    models["active"] = "false"
    row = models_csv_row(temperature=0.0, max_tokens=max_tokens)
    pd.concat([models, pd.DataFrame([row])], ignore_index=True).to_csv(path, index=False)


def daydreaming_run(project: Path, server: LocalServer) -> subprocess.CompletedProcess:
    env = own_environment()
    env["OPENROUTER_BASE_URL"] = server.base_url
    env["OPENROUTER_API_KEY"] = "local"  # llama-server checks no key; the client needs one
    command = [str(BIN / "daydreaming"), "run", "--k-max", "2", "--concepts", ",".join(CONCEPTS),
               "--templates", TEMPLATE]  # fmt: skip
    return subprocess.run(
        command, cwd=project, env=env, capture_output=True, text=True, timeout=1200
    )


def usage_table(stdout: str) -> list[str]:
    """The lines of the per-model usage table that ``daydreaming run`` prints."""
    lines = stdout.split("per model:\n", 1)[1].splitlines()
    return lines[: next(i for i, line in enumerate(lines) if line.strip().startswith("total")) + 1]


def test_daydreaming_run_on_a_real_local_model(tmp_path: Path, llama_server: LocalServer):
    project = make_project(tmp_path / "project")
    raw = project / "data" / "01_raw"
    only_the_local_model(raw / "generation_models.csv", GENERATION_MAX_TOKENS)
    only_the_local_model(raw / "evaluation_models.csv", EVALUATION_MAX_TOKENS)
    before = server_token_counts(llama_server)

    first = daydreaming_run(project, llama_server)
    assert first.returncode == 0, first.stdout + first.stderr
    evaluations = pd.read_csv(project / "data" / "02_tasks" / "evaluation_tasks.csv")
    assert len(evaluations) == 2  # one generation, two active evaluation templates, one judge
    assert "generation: 1 called, 0 reused without a call, 0 failed, unknown spent" in first.stdout
    assert "evaluation: 2 called, 0 reused without a call, 0 failed, unknown spent" in first.stdout
    assert "Spent in this run: unknown" in first.stdout

    # Answers stored with the token counts the server reported, and no cost made up.
    data = project / "data"
    records = read_records(data / "03_generation" / "generation_responses") + read_records(
        data / "04_evaluation" / "evaluation_responses"
    )
    assert len(records) == 3
    for record in records:
        assert record["requested_model"] == record["answered_by_model"] == MODEL_NAME
        assert record["base_url"] == llama_server.base_url
        assert record["prompt_tokens"] > 0 and record["completion_tokens"] > 0
        assert record["total_tokens"] == record["prompt_tokens"] + record["completion_tokens"]
        assert record["completion_tokens"] <= record["max_tokens"]
        assert record["cost_usd"] is None and record["cost_source"] == "unknown"
    prompt, predicted = (
        b - a for a, b in zip(before, server_token_counts(llama_server), strict=True)
    )
    assert prompt == sum(r["prompt_tokens"] for r in records)
    assert predicted == sum(r["completion_tokens"] for r in records)

    # The usage table says the cost is unknown; it never shows $0 for it.
    table = usage_table(first.stdout)
    local_row = next(line for line in table if line.strip().startswith(MODEL_NAME))
    assert local_row.split()[1:] == [
        "3",
        f"{sum(r['prompt_tokens'] for r in records):,}",
        f"{sum(r['completion_tokens'] for r in records):,}",
        "unknown",
    ]
    assert table[-1].endswith("unknown")
    assert not any("$0.0000" in line for line in table)

    # One row per evaluation task; a 135M judge may well write no readable score (an error row).
    parsed = pd.read_csv(data / "05_parsing" / "parsed_scores.csv", keep_default_na=False)
    assert sorted(parsed.evaluation_task_id) == sorted(evaluations.evaluation_task_id)
    for row in parsed.itertuples(index=False):
        assert str(row.score) != "" or row.error != ""

    # A second run reuses every stored answer: not one request reaches the server.
    counts = server_token_counts(llama_server)
    again = daydreaming_run(project, llama_server)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "generation: nothing to do" in again.stdout
    assert "evaluation: nothing to do" in again.stdout
    assert server_token_counts(llama_server) == counts
