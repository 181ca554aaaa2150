"""Call slots that hold across processes: at most N calls in flight per model and per endpoint.

Each slot is a lock file; a call holds one slot of its model and one of its endpoint while the
request is open. Every run on this machine (the CLI, UI-launched runs, several at once) takes its
slots from the same folders, so the limits hold across runs, not only inside one process.

Inside a process, the lock files this process holds are never tried again, and only one thread
at a time polls for a slot held elsewhere; the others wait until a local call ends or that
thread gives up its turn. Without this, every waiting thread scanned every lock file every
poll, which cost a core when two processes shared a full endpoint.
"""

import hashlib
import random
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
        self._changed = threading.Condition()
        self._held: set[int] = set()  # slot numbers this process holds now
        self._polling = False  # one thread polls for slots other processes hold
        folder.mkdir(parents=True, exist_ok=True)

    def _try_free(self) -> tuple[int, FileLock] | None:
        """A slot no process holds, locked for the caller; tried from a random start so that
        concurrent callers in different processes rarely contend for the same file."""
        with self._changed:
            candidates = [n for n in range(self.limit) if n not in self._held]
        if not candidates:
            return None
        start = random.randrange(len(candidates))
        for number in candidates[start:] + candidates[:start]:
            lock = FileLock(self.folder / f"slot-{number}.lock", thread_local=True)
            with self._changed:
                if number in self._held:
                    continue
                self._held.add(number)  # claimed, so no thread here tries it meanwhile
            try:
                lock.acquire(timeout=0)
            except Timeout:
                with self._changed:
                    self._held.discard(number)
                continue
            return number, lock
        return None

    def _take(self) -> tuple[int, FileLock]:
        while True:
            taken = self._try_free()
            if taken is not None:
                return taken
            with self._changed:
                if self._polling:
                    # Another thread polls; wake when a local slot frees or it stops polling
                    # (the timeout is only a safety net).
                    self._changed.wait(1.0)
                    continue
                self._polling = True
            try:
                while (taken := self._try_free()) is None:
                    time.sleep(POLL_S)
                return taken
            finally:
                with self._changed:
                    self._polling = False
                    self._changed.notify()

    @contextmanager
    def hold(self) -> Iterator[int]:
        """Block until a slot is free in every process; yields the slot number."""
        with self._local:
            number, lock = self._take()
            try:
                yield number
            finally:
                lock.release()
                with self._changed:
                    self._held.discard(number)
                    self._changed.notify()


class CallSlots:
    """Per-model pools plus one pool for the whole endpoint, taken in a fixed order. A model
    whose limit is the endpoint's (or more) needs no pool of its own.

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
            model: make(key_to_file_stem(model), limit)
            for model, limit in model_limits.items()
            if limit < endpoint_limit
        }

    @contextmanager
    def hold(self, model: str) -> Iterator[None]:
        with ExitStack() as stack:
            pool = self._models.get(model)
            if pool is not None:
                stack.enter_context(pool.hold())
            stack.enter_context(self._endpoint.hold())
            yield
