"""Every way a run can end has its exit code."""

from ..orchestration.experiment_run import RunStatus
from .exit_codes import FOR_STATUS, ExitCode


def test_every_run_status_has_an_exit_code():
    assert {status: FOR_STATUS[status] for status in RunStatus}[RunStatus.QUOTA] is ExitCode.QUOTA
    assert set(FOR_STATUS) == {status.value for status in RunStatus}
