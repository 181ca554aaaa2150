"""What real providers send and what research needs of them: reasoning and provider settings
per model, who served each call, reasoning that uses up the budget, and errors that arrive in
a 200 body (OpenRouter reports errors after a request was accepted that way)."""

from __future__ import annotations

import json

import pandas as pd

from daydreaming_dagster.mock_llm_server import Fault

from .conftest import BIN, SEED_CONCEPTS, SEED_TEMPLATES, make_project
from .test_cli import estimate_totals, run

SMALL_RUN = ["--k-max", "2", "--concepts", ",".join(SEED_CONCEPTS), "--templates",
             SEED_TEMPLATES[0]]  # fmt: skip
R1 = "deepseek/deepseek-r1:free"


def set_columns(project, name: str, model: str, **values: str) -> None:
    path = project / "data" / "01_raw" / name
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column, value in values.items():
        if column not in table.columns:
            table[column] = ""
        table.loc[table["model"] == model, column] = value
    table.to_csv(path, index=False)


def test_reasoning_and_provider_settings_are_sent_recorded_and_part_of_the_call(tmp_path, mock_llm):
    project = make_project(tmp_path / "project")
    set_columns(project, "generation_models.csv", R1, reasoning_effort="high",
                provider_order="deepinfra|together", allow_fallbacks="false")  # fmt: skip
    daydreaming = str(BIN / "daydreaming")
    first = run(project, mock_llm, daydreaming, "run", *SMALL_RUN)
    assert first.returncode == 0, first.stdout + first.stderr
    sent = mock_llm.requests_for(R1)
    assert sent and all(r.body["reasoning"] == {"effort": "high"} for r in sent)
    assert all(r.body["provider"] == {"order": ["deepinfra", "together"],
                                      "allow_fallbacks": False} for r in sent)  # fmt: skip
    assert all("reasoning" not in r.body for r in mock_llm.requests_for("google/gemini-2.5-flash"))
    responses = project / "data" / "03_generation" / "generation_responses"
    record = json.loads(next(responses.glob("*deepseek-r1*.json")).read_text())
    assert record["provider"] == "deepinfra" and record["reasoning_tokens"] > 0
    assert json.loads(record["request_options"])["reasoning"] == {"effort": "high"}
    scores = pd.read_csv(project / "data" / "05_parsing" / "parsed_scores.csv")
    assert set(scores.loc[scores.generation_model == R1, "generation_provider"]) == {"deepinfra"}
    assert set(scores["evaluation_provider"]) == {"mock"}

    # Another reasoning setting is another call: those generations (and their judgements) are
    # stale and redone; nothing else is.
    set_columns(project, "generation_models.csv", R1, reasoning_effort="low")
    estimate = run(project, mock_llm, daydreaming, "estimate", *SMALL_RUN)
    assert estimate_totals(estimate.stdout) == {"tasks": 30, "done": 15, "stale": 15, "calls": 15}


def test_reasoning_that_uses_the_whole_budget_is_a_clear_failure(tmp_path, mock_llm):
    project = make_project(tmp_path / "project")
    mock_llm.script([Fault(kind="reasoning_exhausted", model=R1)])
    result = run(project, mock_llm, str(BIN / "daydreaming"), "run", *SMALL_RUN)
    assert result.returncode == 1
    assert "reasoning used the whole budget; raise max_tokens" in result.stdout


def test_errors_in_a_200_body_are_read_like_http_errors(tmp_path, mock_llm):
    project = make_project(tmp_path / "project")
    gemma = "google/gemma-3-27b-it:free"
    mock_llm.script(
        [
            Fault(kind="choice_error", status=502, message="Provider returned error", model=R1),
            Fault(kind="body_error", status=429, model=gemma,
                  message="Rate limit exceeded: free-models-per-day. Add 10 credits"),  # fmt: skip
        ]
    )
    result = run(project, mock_llm, str(BIN / "daydreaming"), "run", *SMALL_RUN)
    # The errored choice was retried and answered; the daily refusal stopped the free models.
    assert result.returncode == 4, result.stdout + result.stderr
    assert "daily quota" in result.stdout
    responses = project / "data" / "03_generation" / "generation_responses"
    assert len(list(responses.glob("*deepseek-r1*.txt"))) >= 1
    for path in responses.glob("*.txt"):
        assert path.read_text().strip()  # nothing empty or errored was stored
