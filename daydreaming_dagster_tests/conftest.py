"""Shared fixtures: a copy of the real raw data, a local OpenAI-compatible server, a temp instance.

Every LLM call in these tests goes over HTTP to the mock server on 127.0.0.1 through the real
openai client; nothing reaches the internet and no real key is needed.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance

from daydreaming_dagster.mock_llm_server import MockLLMServer

REPO_ROOT = Path(__file__).resolve().parents[1]
# A recognisable fake secret: tests assert it reaches the server and nothing else.
TEST_API_KEY = "sk-test-DO-NOT-LEAK-7f3a9c"
SEED_CONCEPTS = ["dearth-ai-discoveries", "default-mode-network", "human-creativity-insight"]
SEED_TEMPLATES = ["00_systematic_analytical", "02_problem_solving"]
BIN = Path(sys.executable).parent  # this environment's `daydreaming`, `dagster`, ...
DEFINITIONS = str(REPO_ROOT / "daydreaming_dagster" / "definitions.py")


def own_environment() -> dict[str, str]:
    """This process's environment without the Dagster and endpoint settings a developer may have
    exported, for a command a test starts (the test then sets the ones it means)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "OPENROUTER_"))}


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A fresh data folder holding a copy of the repository's data/01_raw."""
    root = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data" / "01_raw", root / "01_raw")
    return root


@pytest.fixture
def mock_llm() -> Iterator[MockLLMServer]:
    with MockLLMServer() as server:
        yield server


@pytest.fixture
def llm_env(monkeypatch: pytest.MonkeyPatch, mock_llm: MockLLMServer) -> MockLLMServer:
    """Point the pipeline's environment at the mock server with the test key."""
    monkeypatch.setenv("OPENROUTER_BASE_URL", mock_llm.base_url)
    monkeypatch.setenv("OPENROUTER_API_KEY", TEST_API_KEY)
    return mock_llm


# The project's instance settings (pooled SQLite event log, no telemetry), in a temp folder.
INSTANCE_YAML = """
event_log_storage:
  module: daydreaming_dagster.instance.pooled_sqlite_event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {home}/history/runs
telemetry:
  enabled: false
"""


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[DagsterInstance]:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(INSTANCE_YAML.format(home=home), encoding="utf-8")
    with DagsterInstance.from_config(str(home)) as inst:
        yield inst


def make_project(root: Path) -> Path:
    """A folder laid out like a fresh clone: raw data, instance config, empty Dagster home."""
    shutil.copytree(REPO_ROOT / "data" / "01_raw", root / "data" / "01_raw")
    shutil.copy(REPO_ROOT / "dagster.yaml", root / "dagster.yaml")
    (root / "dagster_home").mkdir()
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", root / "dagster_home")
    return root


def files_containing(root: Path, needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle``."""
    data = needle.encode()
    return [p for p in root.rglob("*") if p.is_file() and data in p.read_bytes()]


# Tests that start a real PostgreSQL server, llama-server or Chromium take about half of the
# suite's time. A plain `pytest` (no paths named) leaves them out, so the everyday suite stays
# near five minutes on two cores; DAYDREAMING_ALL_TESTS=1 runs them too (CI sets it), and so
# does naming their files or a `-m` expression.
ALL_TESTS_ENV = "DAYDREAMING_ALL_TESTS"
SLOW_MARKERS = ("slow", "real_server")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(ALL_TESTS_ENV) == "1" or config.getoption("markexpr"):
        return
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return
    slow = [item for item in items if any(item.get_closest_marker(m) for m in SLOW_MARKERS)]
    if slow:
        items[:] = [item for item in items if item not in slow]
        config.hook.pytest_deselected(items=slow)


def pytest_report_header(config: pytest.Config) -> str | None:
    if os.environ.get(ALL_TESTS_ENV) == "1":
        return None
    return (
        f"tests that start PostgreSQL, llama-server or Chromium are left out of a plain run; "
        f"set {ALL_TESTS_ENV}=1 to run them (CI does)"
    )
