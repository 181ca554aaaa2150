"""What a batch step works with: a stage (generation or evaluation), what each partition asks
of which model, and the running tally of what happened to the run's partitions."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dagster import AssetKey

from ..llm_calls.budget import Prices
from ..llm_calls.shared_state import StateStore, shared_state

TALLY_SCOPE = "run-tally"


class PartitionFailure(Exception):
    """This partition cannot be done now; the message says why and what to do."""

    def __init__(self, message: str, kind: str = "not_ready"):
        super().__init__(message)
        self.kind = kind  # "not_ready" (an input is missing or stale) or "invalid"


class WaitForGeneration(Exception):
    """The prompt needs a generation answer that a running run is still producing."""


@dataclass(frozen=True)
class CallSpec:
    """What a partition asks of which model (from its task row)."""

    model: str
    temperature: float
    max_tokens: int
    metadata: dict[str, Any]
    replicate: int | str = 1
    request_options: str = ""


@dataclass(frozen=True)
class PlannedCall:
    """What a partition needs now: its call, its prompt, and whether its stored result is
    already exactly that (done, see ``task_status``)."""

    spec: CallSpec
    prompt: str
    done: bool
    stored_record: dict[str, Any] | None = None
    # Recorded with the answer besides the call itself: what else it was made from.
    made_from: dict[str, str] = field(default_factory=dict)


@dataclass
class Stage:
    """One side of the experiment: the generation or the evaluation prompt/response pair."""

    label: str
    prompt_asset: AssetKey
    response_asset: AssetKey
    prompt_folder: Path
    response_folder: Path
    plan: Callable[[str], PlannedCall]
    prices: dict[str, Prices]
    model_limits: dict[str, int]
    request_rates: dict[str, int] = field(default_factory=dict)
    # (answer text, its file) -> what the UI shows of the answer (see answer_metadata)
    answer_metadata: Callable[[str, Path], dict[str, Any]] | None = None


@dataclass
class Tally:
    """What happened to a run's partitions; written as the run's tally file when it ends, which
    is how the ``daydreaming`` command learns its counts (typed, not read back from events)."""

    total: int
    called: int = 0  # answered by a model call made now
    reused: int = 0  # answered without a call (cache or stored files), reported in this run
    already_done: int = 0  # done and already known to Dagster: nothing to report
    prompts_only: int = 0
    charged_usd: float = 0.0
    unpriced_calls: int = 0  # calls whose cost is unknown (no reported cost, no CSV price)
    interrupted: bool = False
    failures: dict[str, str] = field(default_factory=dict)
    failure_kinds: dict[str, str] = field(default_factory=dict)  # key -> FailureKind value

    def fail(self, key: str, kind: str, reason: str) -> None:
        self.failures[key] = reason
        self.failure_kinds[key] = kind

    @property
    def finished(self) -> int:
        done = self.called + self.reused + self.already_done + self.prompts_only
        return done + len(self.failures)

    def write(self, run_id: str) -> None:
        tally_store(run_id).update(lambda state: state.update(asdict(self)))


def tally_store(run_id: str) -> StateStore:
    """Where a run's tally is kept until the command that started it has read it: a file in
    this machine's temp folder, or a row of the database when the instance is on PostgreSQL,
    so the command learns the counts of runs that ran on other machines too."""
    return shared_state(
        f"{TALLY_SCOPE}/{run_id}",
        Path(tempfile.gettempdir()) / "daydreaming-run-tallies" / f"{run_id}.json",
    )


def read_tally(run_id: str) -> Tally | None:
    """A finished run's tally (removed once read), or None when the step ended before it."""
    try:
        state = tally_store(run_id).take()
        return Tally(**state) if state is not None else None
    except TypeError:
        return None
