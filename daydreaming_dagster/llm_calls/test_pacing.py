import threading
from pathlib import Path

from .pacing import FREE_GROUP, RequestPacer, limiter_keys
from .rate_limits import LimitScope, RateLimit

FREE = "x/model:free"
OTHER_FREE = "y/other:free"
PAID = "z/paid"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def pacer(tmp_path: Path, clock: Clock, invocation: str = "run-1", **kw) -> RequestPacer:
    return RequestPacer(tmp_path / "limits.json", invocation, clock=clock, **kw)


def test_free_models_share_one_group():
    assert limiter_keys(FREE) == [f"model:{FREE}", FREE_GROUP]
    assert limiter_keys(PAID) == [f"model:{PAID}"]


def test_an_unlimited_endpoint_costs_nothing(tmp_path):
    clock = Clock()
    p = pacer(tmp_path, clock)
    assert p.reserve(FREE) == clock.now and not (tmp_path / "limits.json").exists()


def test_starts_are_spaced_so_no_window_holds_more_than_the_limit(tmp_path):
    clock = Clock()
    p = pacer(tmp_path, clock, per_window={}, window_s=60, free_group_limit=20,
              free_group_active=True)  # fmt: skip
    starts = [p.reserve(FREE if i % 2 else OTHER_FREE) for i in range(41)]
    assert starts == sorted(starts)
    for first in range(len(starts)):
        in_window = [s for s in starts if starts[first] <= s < starts[first] + 60]
        assert len(in_window) <= 20
    assert p.reserve(PAID) == clock.now  # a paid model is not in the group


def test_a_per_minute_refusal_pauses_the_group_and_paces_it_from_then_on(tmp_path):
    clock = Clock()
    p = pacer(tmp_path, clock, per_window={}, window_s=60, free_group_limit=20)
    assert p.reserve(FREE) == clock.now  # not paced before anything said so
    limit = RateLimit(LimitScope.MINUTE, "free-models-per-min", 20, 0, clock.now + 30, None, True)
    assert p.pause(FREE, limit) == clock.now + 30
    first, second = p.reserve(OTHER_FREE), p.reserve(FREE)
    assert first == clock.now + 30 and second > first
    # Another process sharing the file sees the same pause and pacing.
    assert pacer(tmp_path, clock, "run-1").reserve(FREE) > second


def test_a_daily_refusal_stops_every_model_under_it_and_a_later_run_probes_once(tmp_path):
    clock = Clock()
    p = pacer(tmp_path, clock)
    day = RateLimit(LimitScope.DAY, "free-models-per-day", 50, 0, clock.now + 3600 * 5, None, True)
    entry = p.exhaust(FREE, day)
    assert entry.key == FREE_GROUP and "resets at" in entry.describe(clock.now)
    assert "(in 5.0 h)" in entry.describe(clock.now)
    assert p.exhausted(OTHER_FREE) == entry and p.exhausted(PAID) is None
    # A later run sends one probe; the others wait for what it learns.
    later = pacer(tmp_path, clock, "run-2")
    assert later.exhausted(FREE) is None  # the probe
    waited: list = []
    other = threading.Thread(target=lambda: waited.append(later.exhausted(OTHER_FREE)))
    other.start()
    other.join(0.2)
    assert other.is_alive()  # waiting for the probe
    later.exhaust(FREE, day)  # the probe was refused for the day again
    later.probe_done(FREE)
    other.join(2)
    assert waited and waited[0] is not None
    # After the reset nothing is exhausted.
    clock.now += 3600 * 6
    assert later.exhausted(FREE) is None


def test_a_successful_probe_clears_the_mark(tmp_path):
    clock = Clock()
    day = RateLimit(LimitScope.DAY, None, None, None, clock.now + 60, None, False)
    pacer(tmp_path, clock).exhaust(FREE, day)
    later = pacer(tmp_path, clock, "run-2")
    assert later.exhausted(FREE) is None
    later.clear(FREE)
    later.probe_done(FREE)
    assert later.exhaustions() == []


def test_an_answer_in_flight_when_this_run_saw_the_quota_go_does_not_bring_it_back(tmp_path):
    clock = Clock()
    p = pacer(tmp_path, clock)
    day = RateLimit(LimitScope.DAY, None, None, None, clock.now + 60, None, True)
    p.exhaust(FREE, day)
    p.clear(OTHER_FREE)  # answered: it was sent before the refusal
    assert p.exhausted(FREE) is not None
