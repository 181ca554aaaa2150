"""What one ``daydreaming`` command was asked to do, as typed values (not argparse namespaces).

The command line fills these in; the orchestration reads them; a forked judging process gets
the same object, so both processes run the same experiment with the same settings.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..experiment.task_tables import TableSettings

if TYPE_CHECKING:  # imported when used: they import Dagster, which `estimate` never needs
    from ..resources.experiment_config import ExperimentConfig
    from ..resources.llm_client import LLMClientResource

# Shortens the "minute" of per-minute limits, to simulate a provider's free tier in tests.
RATE_WINDOW_ENV = "DAYDREAMING_RATE_LIMIT_WINDOW_S"
# Partitions per Dagster run: a run holds every event of its step until it ends (about 6-13 KB
# a partition), so cutting the work into runs of this size bounds the memory at any scale.
RUN_PARTITIONS_ENV = "DAYDREAMING_RUN_PARTITIONS"
DEFAULT_RUN_PARTITIONS = 2000


def run_partitions_from_env() -> int:
    value = os.environ.get(RUN_PARTITIONS_ENV, "").strip()
    if not value:
        return DEFAULT_RUN_PARTITIONS
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{RUN_PARTITIONS_ENV}={value!r} must be a whole number of at least 1.")
    return int(value)


@dataclass(frozen=True)
class Selection:
    """Which part of the experiment: any field left None keeps ExperimentConfig's default."""

    k_max: int | None = None
    concepts: list[str] | None = None
    templates: list[str] | None = None
    description_level: str | None = None
    generation_replicates: int | None = None
    evaluation_replicates: int | None = None

    def experiment_config(self) -> ExperimentConfig:
        from ..resources.experiment_config import ExperimentConfig

        values = {
            "k_max": self.k_max,
            "concept_ids_filter": self.concepts,
            "template_names_filter": self.templates,
            "description_level": self.description_level,
            "generation_replicates": self.generation_replicates,
            "evaluation_replicates": self.evaluation_replicates,
        }
        return ExperimentConfig(**{k: v for k, v in values.items() if v is not None})

    def table_settings(self) -> TableSettings:
        """The same selection, for building the task tables without Dagster."""
        default = TableSettings()
        return TableSettings(
            k_max=default.k_max if self.k_max is None else self.k_max,
            description_level=self.description_level or default.description_level,
            concept_ids=tuple(self.concepts) if self.concepts else None,
            template_names=tuple(self.templates) if self.templates else None,
            generation_replicates=self.generation_replicates or default.generation_replicates,
            evaluation_replicates=self.evaluation_replicates or default.evaluation_replicates,
        )


@dataclass(frozen=True)
class RunOptions:
    selection: Selection = field(default_factory=Selection)
    data_root: str = "data"
    dagster_home: str = "dagster_home"
    force: bool = False
    max_cost_usd: float | None = None
    calibrate: bool = False
    request_timeout_s: float | None = None
    workers: int = 1  # above 1: runs queued through Dagster's run coordinator (worker_runs)
    run_partitions: int | None = None  # None: DAYDREAMING_RUN_PARTITIONS, else 2000
    # One id for the processes of this command, so what one learns (a quota gone) holds for all.
    invocation: str = field(default_factory=lambda: uuid.uuid4().hex)

    def partitions_per_run(self) -> int:
        """Partitions per Dagster run; ValueError (said in a line) for a bad setting."""
        return self.run_partitions or run_partitions_from_env()

    def llm(self, budget_ledger: Path | None = None) -> LLMClientResource:
        from ..resources.llm_client import LLMClientResource

        return LLMClientResource(**self.llm_settings(budget_ledger))

    def llm_settings(self, budget_ledger: Path | None = None) -> dict:
        """The model client's settings for this command, also given as run config to runs that
        the run launcher starts in processes of their own."""
        settings: dict = {
            "reuse_stored_responses": not self.force,
            "max_cost_usd": self.max_cost_usd,
            "budget_ledger": str(budget_ledger) if budget_ledger else None,
            "invocation": self.invocation,
        }
        if self.request_timeout_s is not None:
            settings["timeout_s"] = self.request_timeout_s
        window = os.environ.get(RATE_WINDOW_ENV, "").strip()
        if window:
            settings["rate_limit_window_s"] = float(window)
        return settings
