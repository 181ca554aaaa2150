"""Settings for every test, whichever folder is run."""

from __future__ import annotations

import signal


def pytest_configure(config: object) -> None:
    """Tests behave the same however pytest was started.

    A program started in the background by a script ignores SIGINT. After a Dagster run in the
    main thread, Dagster gives SIGTERM the handler SIGINT had (``setup_interrupt_handlers``), so
    SIGTERM was then ignored too, and so was it in every program started afterwards: the
    compute-log tails of later runs could not be stopped, and each run waited 30 s for them.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
