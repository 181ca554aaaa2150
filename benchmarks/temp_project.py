"""Throw-away copies of the project, so benchmark runs never touch the real data or instance.

Each measured configuration gets its own folder with a copy of ``data/01_raw``, empty output
folders, a fresh Dagster instance folder and a link to the package, laid out like the repository
root so the project's commands behave exactly as they do there.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "daydreaming_dagster"
DEFINITIONS = f"{PACKAGE}/definitions.py"
OUTPUT_FOLDERS = ("02_tasks", "03_generation", "04_evaluation", "05_parsing", "06_summary")
SETUP_SELECTION = (
    "concepts,concepts_metadata,generation_models,evaluation_models,generation_templates,"
    "evaluation_templates,content_combinations,generation_tasks,evaluation_tasks"
)


@dataclass(frozen=True)
class Selection:
    """The experiment subset, expressed both as CLI flags and as Dagster run config."""

    k_max: int | None = None
    concepts: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()

    def cli_flags(self) -> list[str]:
        flags: list[str] = []
        if self.k_max is not None:
            flags += ["--k-max", str(self.k_max)]
        if self.concepts:
            flags += ["--concepts", ",".join(self.concepts)]
        if self.templates:
            flags += ["--templates", ",".join(self.templates)]
        return flags

    def run_config_flags(self) -> list[str]:
        """``--config-json`` for the setup step; empty for the default experiment."""
        config: dict[str, object] = {}
        if self.k_max is not None:
            config["k_max"] = self.k_max
        if self.concepts:
            config["concept_ids_filter"] = list(self.concepts)
        if self.templates:
            config["template_names_filter"] = list(self.templates)
        if not config:
            return []
        payload = {"resources": {"experiment_config": {"config": config}}}
        return ["--config-json", json.dumps(payload)]


def venv_script(name: str) -> list[str]:
    """A console script from the interpreter's own environment (works from any clone)."""
    script = Path(sys.executable).parent / name
    if script.exists():
        return [str(script)]
    fallback = {"daydreaming": f"{PACKAGE}.cli", "dagster": "dagster"}
    return [sys.executable, "-m", fallback[name]]


def make_project(parent: Path, name: str) -> Path:
    """Lay out a fresh project folder under ``parent`` and return its path."""
    root = parent / name
    data = root / "data"
    data.mkdir(parents=True)
    shutil.copytree(REPO_ROOT / "data" / "01_raw", data / "01_raw")
    for folder in OUTPUT_FOLDERS:
        (data / folder).mkdir()
    home = root / "dagster_home"
    home.mkdir()
    for relative in ("dagster.yaml", "dagster_home/dagster.yaml"):
        source = REPO_ROOT / relative
        if source.exists():
            shutil.copy2(source, root / relative)
    (root / PACKAGE).symlink_to(REPO_ROOT / PACKAGE, target_is_directory=True)
    return root


def scratch_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="daydreaming-bench-"))


def base_env(base_url: str) -> dict[str, str]:
    """Environment for project commands: the mock endpoint, any key, no inherited instance."""
    env = dict(os.environ)
    env.pop("DAGSTER_HOME", None)
    env["OPENROUTER_BASE_URL"] = base_url
    env["OPENROUTER_API_KEY"] = "benchmark-mock-key"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_command(project: Path, selection: Selection) -> list[str]:
    """``daydreaming run`` on ``project`` with explicit folders, so cwd is not load-bearing."""
    return [
        *venv_script("daydreaming"),
        "run",
        "--data-root",
        str(project / "data"),
        "--dagster-home",
        str(project / "dagster_home"),
        *selection.cli_flags(),
    ]


def seed_commands(selection: Selection) -> list[list[str]]:
    """Seed steps 1 and 2: setup assets, then partition registration."""
    dagster = venv_script("dagster")
    setup = [
        *dagster,
        "asset",
        "materialize",
        "--select",
        SETUP_SELECTION,
        "-f",
        DEFINITIONS,
        *selection.run_config_flags(),
    ]
    register = [*dagster, "asset", "materialize", "--select", "task_definitions", "-f", DEFINITIONS]
    return [setup, register]


def single_partition_command(partition_key: str) -> list[str]:
    """Seed step 3: one generation partition through the Dagster CLI."""
    return [
        *venv_script("dagster"),
        "asset",
        "materialize",
        "--select",
        "generation_prompt,generation_response",
        "--partition",
        partition_key,
        "-f",
        DEFINITIONS,
    ]


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def task_counts(project: Path) -> tuple[int, int]:
    """(generation tasks, evaluation tasks) as written by the setup step."""
    tasks = project / "data" / "02_tasks"
    generation = read_rows(tasks / "generation_tasks.csv")
    evaluation = read_rows(tasks / "evaluation_tasks.csv")
    return len(generation), len(evaluation)


def generation_task_ids(project: Path) -> list[str]:
    rows = read_rows(project / "data" / "02_tasks" / "generation_tasks.csv")
    return [row["generation_task_id"] for row in rows]
