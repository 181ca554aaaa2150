"""The single Dagster ``Definitions`` for the DayDreaming experiment.

``build_definitions`` lets tests and the ``daydreaming`` command point the same graph at another
data folder; ``defs`` is what ``dagster dev`` and ``dagster asset materialize`` load.
"""

from __future__ import annotations

from dagster import Definitions, load_assets_from_modules
from dotenv import find_dotenv, load_dotenv

from .assets import core, llm_prompts_responses, partitions, raw_data, results
from .resources.data_paths import DataPathsResource
from .resources.experiment_config import ExperimentConfig
from .resources.io_managers import CSVIOManager, PartitionedTextIOManager
from .resources.llm_client import LLMClientResource

ASSET_MODULES = [raw_data, core, partitions, llm_prompts_responses, results]


def build_definitions(
    data_root: str = "data",
    experiment_config: ExperimentConfig | None = None,
    llm: LLMClientResource | None = None,
) -> Definitions:
    """All assets wired to files under ``data_root``."""

    def text_io(folder: str) -> PartitionedTextIOManager:
        return PartitionedTextIOManager(data_root=data_root, folder=folder)

    return Definitions(
        assets=load_assets_from_modules(ASSET_MODULES),
        resources={
            "experiment_config": experiment_config or ExperimentConfig(),
            "data_paths": DataPathsResource(data_root=data_root),
            "llm": llm or LLMClientResource(),
            "tasks_io_manager": CSVIOManager(data_root=data_root, folder="02_tasks"),
            "parsing_io_manager": CSVIOManager(data_root=data_root, folder="05_parsing"),
            "generation_prompt_io_manager": text_io("03_generation/generation_prompts"),
            "generation_response_io_manager": text_io("03_generation/generation_responses"),
            "evaluation_prompt_io_manager": text_io("04_evaluation/evaluation_prompts"),
            "evaluation_response_io_manager": text_io("04_evaluation/evaluation_responses"),
        },
    )


# .env at the repository root supplies OPENROUTER_API_KEY / OPENROUTER_BASE_URL when present.
load_dotenv(find_dotenv(usecwd=True), override=False)
defs = build_definitions()
