import os
import sys

import pytest

from .process_names import JUDGING, name_this_process


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names are set on Linux only")
def test_a_forked_child_can_be_told_apart_by_its_name():
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        name_this_process(JUDGING)
        with open(f"/proc/{os.getpid()}/comm", encoding="utf-8") as comm:
            os.write(writer, comm.read().strip().encode())
        os._exit(0)
    os.close(writer)
    seen = os.read(reader, 64).decode()
    os.waitpid(pid, 0)
    assert seen == JUDGING
    with open(f"/proc/{os.getpid()}/comm", encoding="utf-8") as comm:
        assert comm.read().strip() != JUDGING  # the parent keeps its own
