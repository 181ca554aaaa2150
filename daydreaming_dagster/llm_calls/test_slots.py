import multiprocessing
import threading
import time
from pathlib import Path

from .slots import CallSlots, SlotPool


def test_a_pool_never_lets_more_than_its_limit_in_across_threads(tmp_path: Path):
    pool = SlotPool(tmp_path / "m", limit=3)
    inside, peak, lock = [0], [0], threading.Lock()

    def work():
        with pool.hold():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.02)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert peak[0] == 3


def _hold_slot(folder: str, ready, release) -> None:
    with SlotPool(Path(folder), limit=1).hold():
        ready.set()
        release.wait(10)


def test_a_slot_held_by_another_process_is_respected(tmp_path: Path):
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    other = context.Process(target=_hold_slot, args=(str(tmp_path / "m"), ready, release))
    other.start()
    try:
        assert ready.wait(30)
        acquired = threading.Event()

        def take():
            with SlotPool(tmp_path / "m", limit=1).hold():
                acquired.set()

        taker = threading.Thread(target=take)
        taker.start()
        assert not acquired.wait(0.3)
        release.set()
        assert acquired.wait(10)
        taker.join()
    finally:
        release.set()
        other.join(10)


def test_call_slots_apply_model_and_endpoint_limits(tmp_path: Path):
    slots = CallSlots(tmp_path, endpoint_limit=2, model_limits={"a": 2, "b": 2})
    with slots.hold("a"), slots.hold("b"):
        blocked = threading.Event()

        def third():
            with slots.hold("a"):
                blocked.set()

        t = threading.Thread(target=third)
        t.start()
        assert not blocked.wait(0.2)
    t.join(5)
    assert blocked.is_set()


def test_a_model_limited_only_by_the_endpoint_needs_no_pool_of_its_own(tmp_path: Path):
    slots = CallSlots(tmp_path, endpoint_limit=2, model_limits={"open": 2, "tight": 1})
    assert not (tmp_path / "open").exists()
    assert (tmp_path / "tight").is_dir()
    with slots.hold("open"), slots.hold("open"):
        blocked = threading.Event()

        def third():
            with slots.hold("tight"):
                blocked.set()

        t = threading.Thread(target=third)
        t.start()
        assert not blocked.wait(0.2)
    t.join(5)
    assert blocked.is_set()


def test_many_threads_share_a_pool_with_another_process_pool_object(tmp_path: Path):
    """Two pool objects on one folder stand for two processes: together never over the limit."""
    first, second = SlotPool(tmp_path / "m", limit=3), SlotPool(tmp_path / "m", limit=3)
    inside, peak, lock = [0], [0], threading.Lock()

    def work(pool: SlotPool):
        with pool.hold():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            time.sleep(0.01)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work, args=(p,)) for p in (first, second) * 8]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert peak[0] <= 3
    assert inside[0] == 0
