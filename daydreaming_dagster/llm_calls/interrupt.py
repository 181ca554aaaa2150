"""The run was asked to stop (Ctrl-C): no new call starts, calls in flight may finish.

A process-wide flag rather than an exception, so that the threads of a batch step wind down
cleanly and every answer that arrives is still stored.
"""

import threading

STOP_REQUESTED = threading.Event()


def request_stop() -> None:
    STOP_REQUESTED.set()


def stop_requested() -> bool:
    return STOP_REQUESTED.is_set()
