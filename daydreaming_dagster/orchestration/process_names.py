"""Names for the processes ``daydreaming run`` forks, as ``ps``, ``top`` and psutil show them.

A forked child keeps its parent's command line, so without a name every process of one run
looks like the command itself. Linux names a process by its ``comm`` field (15 bytes), which
``prctl(PR_SET_NAME)`` sets; elsewhere the name is left as it is.
"""

from __future__ import annotations

import ctypes
import sys

JUDGING = "dd-judging"
INSTANCE_CREATION = "dd-new-instance"
PR_SET_NAME = 15


def name_this_process(name: str) -> None:
    """Best effort: a failure changes nothing but what process listings show."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):
        pass
