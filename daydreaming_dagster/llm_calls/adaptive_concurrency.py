"""Fewer calls at once after a refusal whose limit is unknown; back up as answers come.

Where a provider does not say what its limit is, the number of calls in flight is the one knob
left: halve it on a rate-limit refusal, and add one back for every window of answers that
arrive without one (additive increase, multiplicative decrease), never above the configured
limit. Eval harnesses such as Inspect AI and promptfoo adapt their concurrency the same way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Refusals of calls that were already in flight together count as one signal.
DECREASE_EVERY_S = 1.0


class AdaptiveGate:
    """A concurrency limit between 1 and ``ceiling`` that follows the provider's refusals."""

    def __init__(self, ceiling: int):
        self.ceiling = max(1, ceiling)
        self.limit = self.ceiling
        self._in_use = 0
        self._answers = 0
        self._last_decrease = 0.0
        self._changed = threading.Condition()

    @contextmanager
    def hold(self) -> Iterator[None]:
        with self._changed:
            while self._in_use >= self.limit:
                self._changed.wait(0.5)
            self._in_use += 1
        try:
            yield
        finally:
            with self._changed:
                self._in_use -= 1
                self._changed.notify()

    def refused(self) -> None:
        with self._changed:
            now = time.monotonic()
            if now - self._last_decrease >= DECREASE_EVERY_S:
                self.limit = max(1, self.limit // 2)
                self._answers = 0
                self._last_decrease = now

    def answered(self) -> None:
        with self._changed:
            if self.limit >= self.ceiling:
                return
            self._answers += 1
            if self._answers >= self.limit:
                self.limit += 1
                self._answers = 0
                self._changed.notify()
