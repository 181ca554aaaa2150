import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dagster import DagsterInstance, job, op

from .options import RunOptions
from .worker_runs import (
    EXEC_TIED_TO_PARENT,
    failure_message,
    lane_of,
    run_config,
    split_ranges,
    worker_ranges,
)


def test_keys_are_cut_into_contiguous_near_equal_ranges():
    keys = [f"k{n}" for n in range(7)]
    parts = split_ranges(keys, 3)
    assert parts == [["k0", "k1", "k2"], ["k3", "k4"], ["k5", "k6"]]
    assert split_ranges(keys[:1], 4) == [["k0"]]
    assert split_ranges([], 2) == []


def test_no_worker_run_is_over_the_run_size_and_the_lanes_take_turns():
    keys = [f"k{n}" for n in range(10)]
    assert worker_ranges(keys, 2, 2000) == [keys[:5], keys[5:]]  # small: one run per worker
    parts = worker_ranges(keys, 2, 3)
    assert [len(p) for p in parts] == [3, 3, 2, 2] and sum(parts, []) == keys
    lanes = [lane_of("inv", "evaluation", n, 2) for n in range(1, len(parts) + 1)]
    assert lanes == ["inv-evaluation-1", "inv-evaluation-2"] * 2


def test_the_queue_runs_one_run_per_lane_at_a_time():
    """Both instance settings carry the lane limit the worker runs rely on."""
    import yaml

    from .worker_runs import LANE_TAG

    root = Path(__file__).resolve().parents[2]
    for name in ("dagster.yaml", "dagster_home/dagster.yaml"):
        config = yaml.safe_load((root / name).read_text())["run_coordinator"]["config"]
        limits = config["tag_concurrency_limits"]
        assert {"key": LANE_TAG, "value": {"applyLimitPerUniqueValue": True}, "limit": 1} in limits


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


def test_a_run_whose_process_died_says_how_instead_of_dagsters_generic_failure():
    """When a run's process dies (SIGKILL, say by the out-of-memory killer), Dagster's code
    server records how in an engine event (this text, as of Dagster 1.13) and then fails the
    run with a generic message; the command shows the former."""

    @op
    def nothing() -> None:
        return None

    @job
    def one() -> None:
        nothing()

    with DagsterInstance.ephemeral() as instance:
        run = one.execute_in_process(instance=instance).dagster_run
        instance.report_engine_event(
            f"[DagsterApiServer] Run execution process for {run.run_id} was terminated by "
            "signal 9 (SIGKILL). "
            "This usually indicates that the process was killed by the operating system due "
            "to running out of memory.",
            run,
        )
        instance.report_run_failed(run)
        assert failure_message(instance, run.run_id) == (
            "its process was terminated by signal 9 (SIGKILL), often the system running out of "
            "memory; the answers it received are stored."
        )
