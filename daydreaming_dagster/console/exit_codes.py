"""What the ``daydreaming`` command's exit code says (documented in the README)."""

from enum import IntEnum


class ExitCode(IntEnum):
    DONE = 0  # everything asked for is done
    FAILED = 1  # some tasks failed (the rest are stored); run again to redo only those
    CONFIG = 2  # bad usage or configuration (no key, unreachable endpoint, bad input, a check)
    BUDGET = 3  # --max-cost refused calls
    QUOTA = 4  # a daily quota ran out; run again after its reset
    INTERRUPTED = 130  # Ctrl-C


# By RunStatus value (a StrEnum, so RunStatus members look up their own value): this module
# stays free of the orchestration, which imports Dagster, so quick commands start quickly.
FOR_STATUS = {
    "done": ExitCode.DONE,
    "failed": ExitCode.FAILED,
    "stopped before calls": ExitCode.FAILED,
    "budget": ExitCode.BUDGET,
    "quota": ExitCode.QUOTA,
    "interrupted": ExitCode.INTERRUPTED,
}
