"""Waiting for a web server the tests started (`dagster dev`, the Dagster webserver)."""

from __future__ import annotations

import subprocess
import time
import urllib.request

from daydreaming_dagster.local_server import free_port

__all__ = ["free_port", "wait_for_http"]


def wait_for_http(url: str, process: subprocess.Popen, timeout_s: float = 90) -> None:
    """Return once ``url`` answers 200; fail if ``process`` exits or time runs out first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the webserver exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer within {timeout_s} s")
