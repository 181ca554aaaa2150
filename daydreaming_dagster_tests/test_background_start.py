"""The test suite started in the background (SIGINT ignored) can still stop what it starts."""

from __future__ import annotations

import signal
import subprocess
import sys

from .conftest import REPO_ROOT

PROGRAM = """
import subprocess, sys
import dagster
sys.path.insert(0, {root!r})
import conftest

@dagster.asset
def one():
    return 1

def stops_on_sigterm():
    dagster.materialize([one])  # in the main thread: Dagster remaps SIGTERM afterwards
    child = subprocess.Popen(["sleep", "30"])
    child.terminate()
    try:
        child.wait(timeout=2)
        return True
    except subprocess.TimeoutExpired:
        child.kill()
        return False

print("before:", stops_on_sigterm())
conftest.pytest_configure(None)
print("after:", stops_on_sigterm())
"""


def test_programs_started_after_a_run_stop_on_sigterm_with_the_suite_settings():
    """Without conftest.pytest_configure, Dagster leaves SIGTERM ignored in a process started
    in the background, and so in every program it starts (the first line); with it, not."""
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(root=str(REPO_ROOT))],
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # as `cmd &` in a script
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["before:", "False", "after:", "True"], result.stdout
