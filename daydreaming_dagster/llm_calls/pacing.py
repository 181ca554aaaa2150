"""Request rates that hold across every call of a run, in every process: paced starts, pauses
after a per-minute refusal, and quotas that are gone for the day.

Like the call slots, the state lives in a file of the endpoint's folder, under a lock, so the
generation and judging processes of one run (and runs started side by side) share it:

- a per-minute limit is kept by spacing request starts evenly (``window / limit`` apart, with a
  small margin), which never bursts past the limit in any window;
- a per-minute refusal pauses the model, or its whole group, until the reset the provider gave;
- a daily refusal marks the quota exhausted until its reset: every model under it stops at
  once. Later runs see the mark and send one probe request before trusting it, since a quota
  may have been raised or reset early.

OpenRouter's ``:free`` models share one limit (20 a minute, and a daily quota); that group is
paced from the start on OpenRouter's endpoint, and elsewhere once a refusal names it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .rate_limits import RateLimit
from .shared_state import FileStateStore, StateStore

FREE_GROUP = "group:free-models"
FREE_SUFFIX = ":free"
MARGIN = 1.05  # spacing a little wider than the limit allows absorbs network jitter
SLEEP_STEP_S = 0.25


def limiter_keys(model: str) -> list[str]:
    """The limits a model's requests count against: its own, and its group's."""
    keys = [f"model:{model}"]
    if model.endswith(FREE_SUFFIX):
        keys.append(FREE_GROUP)
    return keys


def next_utc_midnight(now: float) -> float:
    day = datetime.fromtimestamp(now, UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Exhaustion:
    """A quota that is gone until ``until`` (epoch seconds)."""

    key: str
    until: float
    name: str
    noted_by: str  # the invocation that saw the refusal

    def describe(self, now: float | None = None) -> str:
        current = time.time() if now is None else now
        when = datetime.fromtimestamp(self.until, UTC).strftime("%Y-%m-%d %H:%M UTC")
        hours = max(0.0, (self.until - current) / 3600)
        return f"{self.name}: resets at {when} (in {hours:.1f} h)"


class RequestPacer:
    """When each request may start, and whether its quota is left at all."""

    def __init__(
        self,
        state_file: Path | StateStore,
        invocation: str,
        per_window: dict[str, int] | None = None,
        window_s: float = 60.0,
        free_group_limit: int | None = None,
        free_group_active: bool = False,
        clock: Callable[[], float] = time.time,
    ):
        self._store = FileStateStore(state_file) if isinstance(state_file, Path) else state_file
        self._local = threading.Lock()
        self._invocation = invocation
        self._window = window_s
        self._clock = clock
        self._free_limit = free_group_limit
        self._intervals = {
            f"model:{model}": window_s / limit * MARGIN
            for model, limit in (per_window or {}).items()
            if limit and limit > 0
        }
        if free_group_active and free_group_limit:
            self._intervals[FREE_GROUP] = window_s / free_group_limit * MARGIN
        self._probing: dict[str, tuple[threading.Event, int]] = {}

    def _peek(self) -> dict:
        return self._store.peek()

    def _update(self, change: Callable[[dict], object]) -> object:
        with self._local:
            return self._store.update(change)

    # --- pacing ----------------------------------------------------------------------------

    def _interval(self, key: str, state: dict) -> float:
        return max(self._intervals.get(key, 0.0), float(state.get("intervals", {}).get(key, 0)))

    def reserve(self, model: str) -> float:
        """The moment this request may start (now, or later to keep every limit it counts
        against); the caller waits until then."""
        keys = limiter_keys(model)
        now = self._clock()
        if not any(k in self._intervals for k in keys) and self._store.is_empty():
            return now  # nothing limits this endpoint: no lock, no file

        def take(state: dict) -> float:
            next_at = state.setdefault("next_at", {})
            start = max([now, *(float(next_at.get(k, 0.0)) for k in keys)])
            for key in keys:
                interval = self._interval(key, state)
                if interval:
                    next_at[key] = start + interval
            return start

        return float(self._update(take))  # type: ignore[arg-type]

    def pause(self, model: str, limit: RateLimit) -> float:
        """After a per-minute refusal: nothing under that limit starts before its reset.
        A limit shared by the ``:free`` models also paces that group from now on."""
        now = self._clock()
        wait = limit.wait_s(now)
        until = now + (wait if wait is not None else self._window)
        key = FREE_GROUP if limit.free_models and model.endswith(FREE_SUFFIX) else f"model:{model}"

        def change(state: dict) -> None:
            next_at = state.setdefault("next_at", {})
            next_at[key] = max(float(next_at.get(key, 0.0)), until)
            if key == FREE_GROUP:
                per_window = limit.limit or self._free_limit
                if per_window:
                    state.setdefault("intervals", {})[key] = self._window / per_window * MARGIN

        self._update(change)
        return until

    # --- daily quotas ----------------------------------------------------------------------

    def exhaust(self, model: str, limit: RateLimit) -> Exhaustion:
        """A daily refusal: the quota is gone until its reset, for every model under it."""
        now = self._clock()
        key = FREE_GROUP if model.endswith(FREE_SUFFIX) else f"model:{model}"
        until = limit.reset_at if limit.reset_at and limit.reset_at > now else None
        entry = Exhaustion(
            key=key,
            until=until or next_utc_midnight(now),
            name=limit.name or ("daily quota of the :free models" if key == FREE_GROUP else model),
            noted_by=self._invocation,
        )

        def change(state: dict) -> None:
            state.setdefault("exhausted", {})[key] = {
                "until": entry.until,
                "name": entry.name,
                "noted_by": entry.noted_by,
            }

        self._update(change)
        return entry

    def clear(self, model: str) -> None:
        """A call under a quota marked exhausted by an earlier run succeeded: it is back."""
        marks = self._peek().get("exhausted", {})
        keys = [
            key
            for key in limiter_keys(model)
            if key in marks and marks[key].get("noted_by") != self._invocation
        ]
        if not keys:
            return  # (a call already in flight when this run saw the quota go clears nothing)

        def change(state: dict) -> None:
            for key in keys:
                entry = state.get("exhausted", {}).get(key)
                if entry is not None and entry.get("noted_by") != self._invocation:
                    del state["exhausted"][key]

        self._update(change)

    def exhaustions(self) -> list[Exhaustion]:
        """Quotas still gone now."""
        now = self._clock()
        found = []
        for key, entry in self._peek().get("exhausted", {}).items():
            if float(entry.get("until", 0)) > now:
                found.append(
                    Exhaustion(key, float(entry["until"]), str(entry["name"]), entry["noted_by"])
                )
        return found

    def exhausted(self, model: str) -> Exhaustion | None:
        """The quota this request may not use now, or None when it may be sent.

        A quota marked by an earlier run is probed: one request at a time goes until one is
        answered (the mark is cleared) or refused again (this run stops using it)."""
        keys = limiter_keys(model)
        for entry in self.exhaustions():
            if entry.key not in keys:
                continue
            if entry.noted_by == self._invocation:
                return entry
            with self._local:
                probe = self._probing.get(entry.key)
                if probe is None:
                    self._probing[entry.key] = (threading.Event(), threading.get_ident())
                    return None  # this request is the probe
            event, prober = probe
            if prober == threading.get_ident() and not event.is_set():
                return None  # the probe itself, asking again before it is sent
            event.wait()
            now = next((e for e in self.exhaustions() if e.key == entry.key), None)
            if now is not None and now.noted_by == self._invocation:
                return now  # the probe was refused for the day again
            # Otherwise the probe was answered (the mark is gone) or failed for another
            # reason: the quota is not known to be gone, so this request may go.
        return None

    def probe_done(self, model: str) -> None:
        """The probe request under an earlier run's mark has its answer (or refusal)."""
        with self._local:
            for key in limiter_keys(model):
                probe = self._probing.get(key)
                if probe is not None and probe[1] == threading.get_ident():
                    probe[0].set()


def wait_until(moment: float, stopped: Callable[[], bool], clock=time.time) -> bool:
    """Sleep until ``moment`` in short steps; False when ``stopped()`` turned true first."""
    while True:
        left = moment - clock()
        if left <= 0:
            return True
        if stopped():
            return False
        time.sleep(min(SLEEP_STEP_S, left))
