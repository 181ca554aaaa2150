"""``daydreaming estimate`` builds the task tables without Dagster: they must be exactly what
the setup assets write, and building them must write nothing and import no Dagster."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from daydreaming_dagster.experiment.task_tables import TableSettings
from daydreaming_dagster.records.combination_registry import read_registry
from daydreaming_dagster.records.data_layout import DataLayout
from daydreaming_dagster.records.task_tables import planned_task_tables
from daydreaming_dagster.resources.experiment_config import ExperimentConfig

from .conftest import REPO_ROOT, SEED_CONCEPTS
from .pipeline_runner import run_setup
from .test_pipeline import seed_defs


def as_written(table: pd.DataFrame, tmp_path, name: str) -> pd.DataFrame:
    """A table as the CSV round trip gives it back (how the estimate used to read it)."""
    path = tmp_path / f"{name}.csv"
    table.to_csv(path, index=False)
    return pd.read_csv(path, keep_default_na=False)


def test_planned_tables_equal_the_setup_assets_tables(data_root, instance, tmp_path):
    layout = DataLayout(data_root)
    settings = ExperimentConfig(
        k_max=2, concept_ids_filter=SEED_CONCEPTS, description_level="sentence",
        template_names_filter=["00_systematic_analytical", "02_problem_solving"],
    ).table_settings()  # fmt: skip
    planned = planned_task_tables(layout, settings)
    assert not layout.combination_registry.exists()  # estimating registers nothing
    assert run_setup(seed_defs(data_root), instance).success
    for name, table in (
        ("content_combinations", planned.content_combinations),
        ("generation_tasks", planned.generation_tasks),
        ("evaluation_tasks", planned.evaluation_tasks),
    ):
        written = pd.read_csv(layout.tasks / f"{name}.csv", keep_default_na=False)
        pd.testing.assert_frame_equal(as_written(table, tmp_path, name), written)
    # Once registered, other selections keep the ids the registry gives them.
    registered = {c.concept_set: c.combo_id for c in read_registry(layout.combination_registry)}
    wider = planned_task_tables(layout, TableSettings(k_max=2))
    for combo_id, group in wider.content_combinations.groupby("combo_id"):
        concepts = frozenset(group["concept_id"])
        assert registered.get(concepts, combo_id) == combo_id


def test_the_estimate_imports_no_dagster(tmp_path):
    code = (
        "import sys\n"
        "from daydreaming_dagster.cli import main\n"
        "code = main(['estimate', '--k-max', '2'])\n"
        "assert 'dagster' not in sys.modules, 'dagster was imported'\n"
        "sys.exit(code)\n"
    )
    (tmp_path / "data").mkdir()
    subprocess.run(["cp", "-r", str(REPO_ROOT / "data" / "01_raw"), str(tmp_path / "data")],
                   check=True)  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "total" in done.stdout
    assert not (tmp_path / "data" / "02_tasks").exists()
