import os
import signal
import subprocess
import sys
import time

from .options import RunOptions
from .worker_runs import EXEC_TIED_TO_PARENT, run_config, split_ranges


def test_keys_are_cut_into_contiguous_near_equal_ranges():
    keys = [f"k{n}" for n in range(7)]
    parts = split_ranges(keys, 3)
    assert parts == [["k0", "k1", "k2"], ["k3", "k4"], ["k5", "k6"]]
    assert split_ranges(keys[:1], 4) == [["k0"]]
    assert split_ranges([], 2) == []


def test_launched_runs_get_the_commands_settings_as_run_config(tmp_path):
    options = RunOptions(data_root=str(tmp_path / "data"), force=True, request_timeout_s=30)
    resources = run_config(options, None)["resources"]
    assert resources["data_paths"]["config"]["data_root"] == str(tmp_path / "data")
    llm = resources["llm"]["config"]
    assert llm["reuse_stored_responses"] is False and llm["timeout_s"] == 30
    assert llm["invocation"] == options.invocation
    assert None not in llm.values()


def test_a_program_started_tied_to_its_parent_ends_when_the_parent_is_killed():
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            f"p = subprocess.Popen([sys.executable, '-c', {EXEC_TIED_TO_PARENT!r}, "
            "'/bin/sleep', '60'])\n"
            "print(p.pid, flush=True)\n"
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    child = int(parent.stdout.readline())
    time.sleep(0.3)  # the child has exec'd sleep
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("the child outlived its killed parent")
