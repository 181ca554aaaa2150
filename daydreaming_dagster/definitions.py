"""The single Dagster ``Definitions`` for the DayDreaming experiment.

``build_definitions`` lets tests and the ``daydreaming`` command point the same graph at another
data folder; ``defs`` is what ``dagster dev`` and ``dagster asset materialize`` load.
"""

from __future__ import annotations

from dagster import (
    AssetSelection,
    Definitions,
    define_asset_job,
    in_process_executor,
    load_asset_checks_from_modules,
    load_assets_from_modules,
)
from dotenv import find_dotenv, load_dotenv

from daydreaming_dagster.assets import (
    calibration,
    core,
    llm_prompts_responses,
    partitions,
    raw_data,
    results,
    validity_checks,
)
from daydreaming_dagster.resources.data_paths import DataPathsResource
from daydreaming_dagster.resources.experiment_config import ExperimentConfig
from daydreaming_dagster.resources.io_managers import CSVIOManager
from daydreaming_dagster.resources.llm_client import LLMClientResource

ASSET_MODULES = [raw_data, core, partitions, llm_prompts_responses, results, calibration]

# Every run the `daydreaming` command makes is a run of one of these named jobs (the UI's Jobs
# page and launchpad offer the same), so the Runs page says what each run did instead of
# "__ephemeral_asset_job__". `orchestration.dagster_runs.materialize_selection` runs them.
JOB_SELECTIONS: dict[str, AssetSelection] = {
    "setup": AssetSelection.groups("raw_data", "task_definitions"),
    "generate": AssetSelection.assets("generation_prompt", "generation_response"),
    "judge": AssetSelection.assets("evaluation_prompt", "evaluation_response"),
    "summarise": AssetSelection.assets("parsed_scores", "final_results"),
    "calibrate": AssetSelection.assets("calibration_scores"),
}
JOB_DESCRIPTIONS = {
    "setup": "Read data/01_raw, build the task tables and register one partition per task "
    "(with the blocking validity checks).",
    "generate": "Generation prompts and answers for a range of generation partitions.",
    "judge": "Judge prompts and answers for a range of evaluation partitions.",
    "summarise": "Parse every judge's score and write the summaries in data/06_summary.",
    "calibrate": "Every active judge scores the control texts in data/01_raw/controls.",
}
JOBS = [
    define_asset_job(name, selection=selection, description=JOB_DESCRIPTIONS[name])
    for name, selection in JOB_SELECTIONS.items()
]


def build_definitions(
    data_root: str = "data",
    experiment_config: ExperimentConfig | None = None,
    llm: LLMClientResource | None = None,
) -> Definitions:
    """All assets wired to files under ``data_root``."""
    return Definitions(
        assets=load_assets_from_modules(ASSET_MODULES),
        asset_checks=load_asset_checks_from_modules([validity_checks, calibration]),
        jobs=JOBS,
        # One process per run: a subprocess per step costs seconds of imports on small machines,
        # and the steps here are file I/O or waiting on an HTTP API.
        executor=in_process_executor,
        resources={
            "experiment_config": experiment_config or ExperimentConfig(),
            "data_paths": DataPathsResource(data_root=data_root),
            "llm": llm or LLMClientResource(),
            "tasks_io_manager": CSVIOManager(data_root=data_root, folder="02_tasks"),
            "parsing_io_manager": CSVIOManager(data_root=data_root, folder="05_parsing"),
        },
    )


# .env at the repository root supplies OPENROUTER_API_KEY / OPENROUTER_BASE_URL when present.
load_dotenv(find_dotenv(usecwd=True), override=False)
defs = build_definitions()
