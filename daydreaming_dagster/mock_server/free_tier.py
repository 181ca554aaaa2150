"""OpenRouter's free tier, simulated for the mock server: a per-minute limit and a daily quota
shared by every ``:free`` model, where refused requests count against the quota too.

Refusals look like OpenRouter's: HTTP 429 with ``error.message`` naming the limit
(``free-models-per-min``, ``free-models-per-day``), ``error.metadata.headers`` carrying
``X-RateLimit-Limit``/``-Remaining``/``-Reset`` (epoch milliseconds), and the same headers on
the response. Windows are aligned like a clock's minutes; ``window_s`` shortens the "minute"
so tests need not wait for real ones.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

FREE_SUFFIX = ":free"


def _next_utc_midnight(now: float) -> float:
    day = datetime.fromtimestamp(now, UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


@dataclass
class Refusal:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FreeTier:
    per_minute: int = 20
    per_day: int = 50
    window_s: float = 60.0
    # What happened, for tests and benchmarks.
    answered: int = 0
    refused_per_minute: int = 0
    refused_per_day: int = 0
    sent_after_quota_gone: int = 0
    _used_today: int = 0
    _window: int = -1
    _in_window: int = 0
    _day_reset_at: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def new_day(self) -> None:
        """The next day: the daily quota is full again (counters of what happened are kept)."""
        with self._lock:
            self._used_today = 0
            self._day_reset_at = 0.0

    def check(self, model: str, now: float | None = None) -> Refusal | None:
        """Count a request; a Refusal when the free tier does not serve it."""
        if not model.endswith(FREE_SUFFIX):
            return None
        current = time.time() if now is None else now
        with self._lock:
            if not self._day_reset_at:
                self._day_reset_at = _next_utc_midnight(current)
            window = int(current // self.window_s)
            if window != self._window:
                self._window, self._in_window = window, 0
            if self._used_today >= self.per_day:
                self.sent_after_quota_gone += 1
            self._used_today += 1
            self._in_window += 1
            if self._used_today > self.per_day:
                self.refused_per_day += 1
                return self._refusal(
                    "free-models-per-day",
                    "Add 10 credits to unlock 1000 free model requests per day",
                    self.per_day,
                    self._day_reset_at,
                )
            if self._in_window > self.per_minute:
                self.refused_per_minute += 1
                return self._refusal(
                    "free-models-per-min", "", self.per_minute, (window + 1) * self.window_s
                )
            self.answered += 1
            return None

    @staticmethod
    def _refusal(name: str, advice: str, limit: int, reset_at: float) -> Refusal:
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(reset_at * 1000)),
        }
        message = f"Rate limit exceeded: {name}. {advice}".strip()
        body = {
            "error": {
                "code": 429,
                "message": message,
                "metadata": {"headers": headers, "provider_name": None},
            }
        }
        return Refusal(429, body, headers)
