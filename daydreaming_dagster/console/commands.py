"""The ``daydreaming`` subcommands: call the orchestration, render what it returns, exit code.

Errors a user can fix (no key, a dead endpoint, bad input files) end in a few lines saying what
to do, never in a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..orchestration.options import RunOptions
from .exit_codes import FOR_STATUS, ExitCode


def _fail(message: str) -> int:
    print(f"Cannot start: {message}", file=sys.stderr)
    return ExitCode.CONFIG


def _checked_start(options: RunOptions) -> int | None:
    """The preflight: None when the run may start, else the exit code after saying why not."""
    from ..orchestration.preflight import preflight
    from ..records.data_layout import DataLayout

    result = preflight(options.llm(), DataLayout(Path(options.data_root)))
    for warning in result.warnings[:5]:
        print(f"Warning: {warning}", file=sys.stderr)
    if result.ok:
        return None
    print("Cannot start: no model was called.", file=sys.stderr)
    for problem in result.problems[:8]:
        print(f"  {problem}", file=sys.stderr)
    return ExitCode.CONFIG


def run_command(options: RunOptions) -> int:
    from ..orchestration.dagster_runs import ConfigurationError
    from ..orchestration.experiment_run import RunStatus, run_experiment
    from ..orchestration.instance_creation import instance_created_alongside
    from .outcome import print_outcome, print_stopped_before_calls
    from .run_display import TerminalDisplay

    try:
        with instance_created_alongside(options.dagster_home):
            blocked = _checked_start(options)
        if blocked is not None:
            return blocked
        outcome = run_experiment(options, TerminalDisplay())
    except (ConfigurationError, ValueError, FileNotFoundError) as exc:
        return _fail(str(exc))
    if outcome.status is RunStatus.STOPPED_BEFORE_CALLS:
        print_stopped_before_calls(outcome)
        return ExitCode.FAILED
    print_outcome(outcome)
    return FOR_STATUS[outcome.status]


def estimate_command(options: RunOptions) -> int:
    """The plan of a run, from the files alone: no Dagster run, no model call (quick_estimate)."""
    from ..orchestration.cost_estimate import format_estimate
    from ..orchestration.quick_estimate import estimate_now

    try:
        plan = estimate_now(options)
    except (ValueError, FileNotFoundError) as exc:
        return _fail(str(exc))
    print(format_estimate(plan))
    return ExitCode.DONE
