"""How many answers each running stage has stored, counted from the files it writes.

On a terminal, one line that updates in place; otherwise (a pipe, a CI log) a plain line
whenever a count changed, every few seconds, so logs stay short and readable.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass
class _Counter:
    folder: Path
    label: str
    expected: int
    since: float

    def count(self) -> int:
        if not self.folder.exists():
            return 0
        with os.scandir(self.folder) as entries:
            return sum(
                1
                for entry in entries
                if entry.name.endswith(".txt") and entry.stat().st_mtime >= self.since - 1
            )


class ProgressBoard:
    """Counters of the stages in progress, shown by one background thread."""

    def __init__(self, stream: IO[str] | None = None, every_s: float | None = None):
        self._stream = stream or sys.stdout
        self.live = bool(getattr(self._stream, "isatty", lambda: False)())
        self._every = every_s if every_s is not None else (0.5 if self.live else 2.0)
        self._counters: list[_Counter] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = ""
        self._width = 0

    @contextmanager
    def watching(self, folder: Path, label: str, expected: int) -> Iterator[None]:
        counter = _Counter(folder, label, expected, time.time())
        with self._lock:
            self._counters.append(counter)
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._loop, daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._counters.remove(counter)
                thread = self._thread if not self._counters else None
                if thread is not None:
                    self._stop.set()
                    self._thread = None
            if thread is not None:
                thread.join()
                self.clear()

    def _text(self) -> str:
        with self._lock:
            parts = [f"{c.label}: {c.count()}/{c.expected} answers stored" for c in self._counters]
        return "  " + " | ".join(parts) if parts else ""

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            text = self._text()
            if text and text != self._shown:
                self._show(text)

    def _show(self, text: str) -> None:
        with self._lock:
            if self.live:
                self._stream.write("\r" + text.ljust(self._width))
                self._width = len(text)
            else:
                self._stream.write(text + "\n")
            self._stream.flush()
            self._shown = text

    def clear(self) -> None:
        """Remove the updating line before other output is printed."""
        with self._lock:
            if self.live and self._width:
                self._stream.write("\r" + " " * self._width + "\r")
                self._stream.flush()
                self._width = 0
            self._shown = ""
