"""Forking without copying the parent's heap into the child.

A forked child shares the parent's pages until it writes to them, and CPython's cyclic garbage
collector writes into the header of every object it examines: the child's first full collection
copies every page that holds a tracked object, so a 200 MB parent soon has a 200 MB child too
(measured: the chart-drawing child of a 6,300-task run at 210 MB PSS next to its 320 MB parent).
``gc.freeze`` moves the parent's objects out of the collector's reach before the fork, so the
child only pays for what it really touches.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Fork inside this block; the parent's objects are collectable again after it."""
    gc.collect()  # garbage collected now is not frozen (and shared) forever
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
