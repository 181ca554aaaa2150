"""A spending cap that holds while many calls run at once.

Before a call starts, its worst case (the prompt plus ``max_tokens`` of answer at the model's
prices) is reserved; when it ends, the reservation is replaced by what it actually cost. A call
whose worst case does not fit under the cap is not started, so the cap is never passed.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .shared_state import FileStateStore, StateStore


@dataclass(frozen=True)
class Prices:
    """USD per million tokens; None when the models CSV gives no price."""

    input_usd_per_mtok: float | None
    output_usd_per_mtok: float | None

    @property
    def known(self) -> bool:
        return self.input_usd_per_mtok is not None and self.output_usd_per_mtok is not None

    def cost(self, prompt_tokens: float, completion_tokens: float) -> float | None:
        if not self.known:
            return None
        return (
            prompt_tokens * self.input_usd_per_mtok + completion_tokens * self.output_usd_per_mtok
        ) / 1_000_000


def estimated_prompt_tokens(prompt: str) -> int:
    """A rough token count (about four characters per token for English text)."""
    return max(1, len(prompt) // 4)


def worst_case_prompt_tokens(prompt: str) -> int:
    """A count no tokenizer should exceed in practice: half the UTF-8 byte length, plus chat
    framing."""
    return len(prompt.encode("utf-8")) // 2 + 16


class CostBudget:
    """Thread-safe reservations against ``max_usd`` (None means no cap)."""

    def __init__(self, max_usd: float | None):
        self.max_usd = max_usd
        self._lock = threading.Condition()
        self._spent = 0.0
        self._reserved = 0.0

    @property
    def spent(self) -> float:
        with self._lock:
            return self._spent

    def reserve(self, worst_case_usd: float) -> bool:
        """True if the call may start; its worst case is then held until ``settle``.

        While other calls hold reservations it waits for them to settle (they usually cost far
        less than their worst case); it refuses only when nothing else is in flight.
        """
        with self._lock:
            while self.max_usd is not None and (
                self._spent + self._reserved + worst_case_usd > self.max_usd
            ):
                if self._reserved <= 0:
                    return False
                self._lock.wait()
            self._reserved += worst_case_usd
            return True

    def settle(self, reserved_usd: float, actual_usd: float) -> None:
        with self._lock:
            self._reserved -= reserved_usd
            self._spent += actual_usd
            self._lock.notify_all()


SHARED_WAIT_LIMIT_S = 900.0


class SharedCostBudget:
    """The same reservations as ``CostBudget``, kept in shared state so that every process of one
    ``daydreaming run`` shares one cap: a JSON ledger file under a lock file on one machine, or a
    row of the PostgreSQL database when the runs may be on several machines."""

    def __init__(self, ledger: Path | StateStore, max_usd: float | None):
        self.max_usd = max_usd
        self._store = FileStateStore(ledger) if isinstance(ledger, Path) else ledger
        self._threads = threading.Lock()  # the store serialises processes, not threads

    def _change(self, change: Callable[[dict], object]) -> object:
        with self._threads:
            return self._store.update(change)

    @property
    def spent(self) -> float:
        return float(self._change(lambda state: state.get("spent", 0.0)))  # type: ignore[arg-type]

    def reserve(self, worst_case_usd: float) -> bool:
        """As ``CostBudget.reserve``, polling the ledger while other reservations settle.

        A process that died holding reservations never settles them, so the wait is bounded.
        """

        def take(state: dict) -> str:
            spent, reserved = float(state.get("spent", 0.0)), float(state.get("reserved", 0.0))
            if self.max_usd is None or spent + reserved + worst_case_usd <= self.max_usd:
                state.update(spent=spent, reserved=reserved + worst_case_usd)
                return "taken"
            return "wait" if reserved > 1e-12 else "refused"

        deadline = time.monotonic() + SHARED_WAIT_LIMIT_S
        while time.monotonic() < deadline:
            answer = self._change(take)
            if answer != "wait":
                return answer == "taken"
            time.sleep(0.05)
        return False

    def settle(self, reserved_usd: float, actual_usd: float) -> None:
        def release(state: dict) -> None:
            state["reserved"] = max(0.0, float(state.get("reserved", 0.0)) - reserved_usd)
            state["spent"] = float(state.get("spent", 0.0)) + actual_usd

        self._change(release)
