"""`dagster dev` on PostgreSQL: with DAYDREAMING_POSTGRES_URL set and DAGSTER_HOME unset (as the
README runs it), the UI's runs wait in Dagster's queue, its daemon starts them, and everything
the instance keeps goes to that database; no SQLite storage is written."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from dagster_graphql import DagsterGraphQLClient

from .conftest import BIN, DEFINITIONS, TEST_API_KEY, make_project, own_environment
from .postgres_server import postgres_admin_url, postgres_url, query  # noqa: F401 (fixtures)
from .webserver import free_port, wait_for_http

pytestmark = [
    pytest.mark.slow,  # a real server: see conftest.py
    pytest.mark.filterwarnings("ignore::DeprecationWarning:gql"),  # inside Dagster's client
]


def wait_for_run(client: DagsterGraphQLClient, run_id: str, timeout_s: float = 240) -> str:
    deadline = time.monotonic() + timeout_s
    status = ""
    while time.monotonic() < deadline:
        status = client.get_run_status(run_id).value
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(1)
    return status


def test_dagster_dev_on_postgres_queues_runs_its_daemon_starts_them_and_keeps_no_sqlite(
    tmp_path, postgres_url, mock_llm  # noqa: F811
):
    project = make_project(tmp_path / "project")
    env = own_environment()
    env.update(
        OPENROUTER_BASE_URL=mock_llm.base_url,
        OPENROUTER_API_KEY=TEST_API_KEY,
        DAYDREAMING_POSTGRES_URL=postgres_url,
    )
    port = free_port()
    log = tmp_path / "dagster-dev.log"  # a file, not a pipe: nothing reads it until the end
    with open(log, "w") as output:
        dev = subprocess.Popen(
            [str(BIN / "dagster"), "dev", "-f", DEFINITIONS, "-h", "127.0.0.1", "-p", str(port)],
            cwd=project, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_http(f"http://127.0.0.1:{port}/server_info", dev, timeout_s=180)
        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        run_id = client.submit_job_execution("setup")  # queued: only the daemon can start it
        status = wait_for_run(client, run_id)
    finally:
        os.killpg(dev.pid, signal.SIGINT)
        try:
            dev.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait()
    assert status == "SUCCESS", log.read_text(errors="replace")[-3000:]

    assert query(postgres_url, f"SELECT status FROM runs WHERE run_id = '{run_id}'") == [
        ("SUCCESS",)
    ]
    events = query(postgres_url, f"SELECT count(*) FROM event_logs WHERE run_id = '{run_id}'")
    assert events[0][0] > 0
    assert query(postgres_url, "SELECT count(*) FROM daemon_heartbeats")[0][0] > 0
    assert query(postgres_url, "SELECT count(*) FROM dynamic_partitions")[0][0] > 0
    sqlite = [p for p in project.rglob("*") if p.suffix in (".db", ".sqlite")]
    assert not sqlite, sqlite
    assert (project / "data" / "02_tasks" / "generation_tasks.csv").exists()
