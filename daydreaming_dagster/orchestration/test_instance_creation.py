import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from . import instance_creation
from .instance_creation import INSTANCE_FILES, instance_created_alongside

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (Linux, macOS)")

# In a fresh interpreter (one thread, as the command starts): the files exist once the block
# ends, were made by another process, and the instance opens; a second block forks nothing.
FRESH = """
import os, sys
from pathlib import Path
home = Path(sys.argv[1])
os.environ["DAGSTER_HOME"] = str(home)
from daydreaming_dagster.orchestration import instance_creation as ic
forks = []
real_fork = os.fork
def counting_fork():
    forks.append(1)
    return real_fork()
os.fork = counting_fork
with ic.instance_created_alongside(str(home)):
    pass
assert forks == [1], forks
assert all((home / name).exists() for name in ic.INSTANCE_FILES)
from daydreaming_dagster.orchestration.dagster_runs import open_instance
with open_instance() as instance:
    assert instance.get_runs(limit=1) == []
with ic.instance_created_alongside(str(home)):
    pass
assert forks == [1], "an existing instance must not be created again"
print("ok")
"""


def test_a_new_instance_is_created_by_a_child_while_the_block_runs(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_bytes((REPO / "dagster_home" / "dagster.yaml").read_bytes())
    env = {k: v for k, v in os.environ.items() if k not in ("DAYDREAMING_POSTGRES_URL",)}
    done = subprocess.run(
        [sys.executable, "-c", FRESH, str(home)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_with_another_thread_running_nothing_is_forked(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.delenv("DAYDREAMING_POSTGRES_URL", raising=False)
    monkeypatch.setattr(os, "fork", lambda: pytest.fail("forked with a thread running"))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with instance_created_alongside(str(tmp_path)):
            pass
    finally:
        stop.set()
        other.join()
    assert not any((tmp_path / name).exists() for name in INSTANCE_FILES)


def test_a_failed_child_leaves_no_half_made_files(tmp_path):
    for name in INSTANCE_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("half made")
        (tmp_path / (name + "-wal")).write_text("half made")
    pid = os.fork()
    if pid == 0:
        os._exit(1)
    instance_creation._wait(pid, tmp_path)
    assert not any((tmp_path / name).exists() for name in INSTANCE_FILES)
    assert not any((tmp_path / (name + "-wal")).exists() for name in INSTANCE_FILES)


def test_a_postgres_instance_is_left_to_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("DAYDREAMING_POSTGRES_URL", "postgresql://user@127.0.0.1:1/db")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert instance_creation._new_sqlite_home(str(tmp_path)) is None
