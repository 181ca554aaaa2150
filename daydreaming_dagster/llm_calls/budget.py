"""A spending cap that holds while many calls run at once.

Before a call starts, its worst case (the prompt plus ``max_tokens`` of answer at the model's
prices) is reserved; when it ends, the reservation is replaced by what it actually cost. A call
whose worst case does not fit under the cap is not started, so the cap is never passed.
"""

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from ..records.data_layout import write_json_atomic


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
    """The same reservations as ``CostBudget``, kept in a small JSON ledger file under a file lock,
    so several processes of one ``daydreaming run`` (generation and evaluation at once) share one
    cap."""

    def __init__(self, ledger: Path, max_usd: float | None):
        self.max_usd = max_usd
        self._ledger = ledger
        self._lock = FileLock(str(ledger) + ".lock")

    def _read(self) -> dict[str, float]:
        try:
            data = json.loads(self._ledger.read_text(encoding="utf-8"))
            return {"spent": float(data["spent"]), "reserved": float(data["reserved"])}
        except (FileNotFoundError, ValueError, KeyError):
            return {"spent": 0.0, "reserved": 0.0}

    def _write(self, state: dict[str, float]) -> None:
        write_json_atomic(self._ledger, state)

    @property
    def spent(self) -> float:
        with self._lock:
            return self._read()["spent"]

    def reserve(self, worst_case_usd: float) -> bool:
        """As ``CostBudget.reserve``, polling the ledger while other reservations settle.

        A process that died holding reservations never settles them, so the wait is bounded.
        """
        deadline = time.monotonic() + SHARED_WAIT_LIMIT_S
        while time.monotonic() < deadline:
            with self._lock:
                state = self._read()
                fits = self.max_usd is None or (
                    state["spent"] + state["reserved"] + worst_case_usd <= self.max_usd
                )
                if fits:
                    state["reserved"] += worst_case_usd
                    self._write(state)
                    return True
                if state["reserved"] <= 1e-12:
                    return False
            time.sleep(0.05)
        return False

    def settle(self, reserved_usd: float, actual_usd: float) -> None:
        with self._lock:
            state = self._read()
            state["reserved"] = max(0.0, state["reserved"] - reserved_usd)
            state["spent"] += actual_usd
            self._write(state)
