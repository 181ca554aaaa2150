"""Wall time and peak memory of one command, including every process it spawns.

Why a poller and ``wait4``: summing memory over the live process tree catches pipelines that fan
out into worker processes (the sum is what the machine must hold), while the kernel's own
``ru_maxrss`` from ``wait4`` is an exact, sampling-free cross-check for the largest single process.

The poller sums two things. RSS is the classic figure, but a page shared by several processes is
counted once per process: a 200 MB Python process that forks a helper (before ``exec``) briefly
looks like 400 MB. PSS (proportional set size, Linux) splits each shared page between the
processes sharing it, so its sum is the memory the tree really holds; where PSS is unavailable
the RSS figure is used for both.
"""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

POLL_INTERVAL_S = 0.05
MB = 1024 * 1024


@dataclass
class Measurement:
    """What one timed command did; the mock server's counts are filled in afterwards."""

    label: str
    wall_s: float
    exit_code: int
    peak_tree_rss_mb: float
    peak_tree_pss_mb: float
    peak_process_maxrss_mb: float
    max_processes: int
    log_path: str
    calls: int | None = None
    peak_in_flight: int | None = None
    timed_out: bool = False

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class TreeMemoryPoller:
    """Samples summed RSS and PSS of a process and all its descendants in a background thread."""

    def __init__(self, pid: int, interval_s: float = POLL_INTERVAL_S) -> None:
        self._pid = pid
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-poller", daemon=True)
        self.peak_rss_bytes = 0
        self.peak_pss_bytes = 0
        self.max_processes = 0

    def __enter__(self) -> TreeMemoryPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        try:
            root = psutil.Process(self._pid)
            processes = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        rss = pss = 0
        for process in processes:
            try:
                info = process.memory_full_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        self.peak_rss_bytes = max(self.peak_rss_bytes, rss)
        self.peak_pss_bytes = max(self.peak_pss_bytes, pss)
        self.max_processes = max(self.max_processes, len(processes))

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self._interval_s)


def _maxrss_mb(usage: resource.struct_rusage) -> float:
    """``ru_maxrss`` is in KiB on Linux (bytes on macOS)."""
    scale = 1 if os.uname().sysname == "Darwin" else 1024
    return usage.ru_maxrss * scale / MB


def _wait(process: subprocess.Popen[bytes], deadline: float) -> tuple[int, float, bool]:
    """Reap ``process`` with ``wait4`` (for its rusage), killing it if past ``deadline``."""
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, _maxrss_mb(usage), False
        if time.monotonic() > deadline:
            _kill_tree(process.pid)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, _maxrss_mb(usage), True
        time.sleep(0.01)


def _kill_tree(pid: int) -> None:
    """Stop a timed-out command and the children it started (only those, by pid)."""
    try:
        root = psutil.Process(pid)
        family = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for process in family:
        try:
            process.kill()
        except psutil.Error:
            continue


def run_measured(
    label: str,
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    log_path: Path,
    timeout_s: float,
) -> Measurement:
    """Run ``command`` to completion; time it end to end and track its memory."""
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        with TreeMemoryPoller(process.pid) as poller:
            exit_code, maxrss_mb, timed_out = _wait(process, time.monotonic() + timeout_s)
        wall_s = time.perf_counter() - started
    return Measurement(
        label=label,
        wall_s=wall_s,
        exit_code=exit_code,
        peak_tree_rss_mb=poller.peak_rss_bytes / MB,
        peak_tree_pss_mb=poller.peak_pss_bytes / MB,
        peak_process_maxrss_mb=maxrss_mb,
        max_processes=poller.max_processes,
        log_path=str(log_path),
        timed_out=timed_out,
    )


def log_tail(path: str | Path, lines: int = 15) -> list[str]:
    """Last lines of a command's output, for the report and for failure messages."""
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    return text.rstrip().splitlines()[-lines:]
