"""The run was asked to stop (Ctrl-C): no new call starts, calls in flight may finish.

A process-wide flag rather than an exception, so that the threads of a batch step wind down
cleanly and every answer that arrives is still stored.
"""

import os
import signal
import threading

STOP_REQUESTED = threading.Event()
INTERRUPTED_EXIT = 130


def request_stop() -> None:
    STOP_REQUESTED.set()


def stop_requested() -> bool:
    return STOP_REQUESTED.is_set()


def stop_on_sigint(announce: str = "") -> None:
    """Ctrl-C once: ask for a stop (and say ``announce``); twice: leave at once."""

    def handle(signum: int, frame: object) -> None:
        if stop_requested():
            os._exit(INTERRUPTED_EXIT)
        request_stop()
        if announce:
            print(announce, flush=True)

    signal.signal(signal.SIGINT, handle)
