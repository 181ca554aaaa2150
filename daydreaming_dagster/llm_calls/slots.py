"""Call slots that hold across processes: at most N calls in flight per model and per endpoint.

Each slot is a lock file; a call holds one slot of its model and one of its endpoint while the
request is open. Every run on this machine (the CLI, UI-launched runs, several at once) takes its
slots from the same folders, so the limits hold across runs, not only inside one process. An
in-process semaphore in front keeps threads from busy-polling for slots another thread holds.
"""

import hashlib
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ..experiment.file_names import key_to_file_stem

POLL_S = 0.02


def default_slots_root(base_url: str) -> Path:
    """One folder per endpoint under the system temp dir, shared by every run on the machine."""
    digest = hashlib.sha256(base_url.encode("utf-8")).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "daydreaming-call-slots" / digest


class SlotPool:
    """``limit`` slots named by lock files in ``folder``."""

    def __init__(self, folder: Path, limit: int):
        if limit < 1:
            raise ValueError(f"A concurrency limit must be at least 1, got {limit}.")
        self.folder = folder
        self.limit = limit
        self._local = threading.BoundedSemaphore(limit)
        folder.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def hold(self) -> Iterator[int]:
        """Block until a slot is free in every process; yields the slot number."""
        with self._local:
            while True:
                for number in range(self.limit):
                    lock = FileLock(self.folder / f"slot-{number}.lock", thread_local=True)
                    try:
                        lock.acquire(timeout=0)
                    except Timeout:
                        continue
                    try:
                        yield number
                    finally:
                        lock.release()
                    return
                time.sleep(POLL_S)


class CallSlots:
    """Per-model pools plus one pool for the whole endpoint, taken in a fixed order.

    ``pool`` makes a pool from its name and limit: lock files under ``root`` by default, or
    advisory locks in the database that runs on several machines share (database_limits)."""

    def __init__(
        self,
        root: Path,
        endpoint_limit: int,
        model_limits: dict[str, int],
        pool: Callable[[str, int], Any] | None = None,
    ):
        make = pool or (lambda name, limit: SlotPool(root / name, limit))
        self._endpoint = make("_endpoint", endpoint_limit)
        self._models = {
            model: make(key_to_file_stem(model), limit) for model, limit in model_limits.items()
        }

    @contextmanager
    def hold(self, model: str) -> Iterator[None]:
        with ExitStack() as stack:
            stack.enter_context(self._models[model].hold())
            stack.enter_context(self._endpoint.hold())
            yield
