"""What the ``daydreaming`` command's exit code says (documented in the README)."""

from enum import IntEnum

from ..orchestration.experiment_run import RunStatus


class ExitCode(IntEnum):
    DONE = 0  # everything asked for is done
    FAILED = 1  # some tasks failed (the rest are stored); run again to redo only those
    CONFIG = 2  # bad usage or configuration (no key, unreachable endpoint, bad input, a check)
    BUDGET = 3  # --max-cost refused calls
    QUOTA = 4  # a daily quota ran out; run again after its reset
    INTERRUPTED = 130  # Ctrl-C


FOR_STATUS = {
    RunStatus.DONE: ExitCode.DONE,
    RunStatus.FAILED: ExitCode.FAILED,
    RunStatus.STOPPED_BEFORE_CALLS: ExitCode.FAILED,
    RunStatus.BUDGET: ExitCode.BUDGET,
    RunStatus.QUOTA: ExitCode.QUOTA,
    RunStatus.INTERRUPTED: ExitCode.INTERRUPTED,
}
