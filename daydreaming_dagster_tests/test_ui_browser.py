"""The Dagster UI in a real browser: the asset graph, a materialization launched by a click, and
the results' metadata (tables and charts) showing up.

Needs Debian's ``chromium`` (``.ci/run`` installs it and sets DAYDREAMING_REQUIRE_BROWSER=1, so
there a missing browser fails the test instead of skipping it). Screenshots go to
test-artifacts/ui/.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance

from daydreaming_dagster.instance.refs import DEFAULT_RUN_COORDINATOR
from daydreaming_dagster.records.data_layout import text_path

from .conftest import BIN, REPO_ROOT, TEST_API_KEY, make_project, own_environment
from .test_cli import seed_run_command
from .webserver import free_port, wait_for_http

pytestmark = pytest.mark.slow  # a real server or browser: see conftest.py

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = REPO_ROOT / "test-artifacts" / "ui"
# The webserver launches runs itself (no daemon), so runs start without `dagster dev`.
INSTANCE_YAML = f"""
event_log_storage:
  module: daydreaming_dagster.instance.pooled_sqlite_event_log
  class: PooledSqliteEventLogStorage
run_coordinator:
  module: {DEFAULT_RUN_COORDINATOR["module"]}
  class: {DEFAULT_RUN_COORDINATOR["class"]}
telemetry:
  enabled: false
"""

if CHROMIUM is None and os.environ.get("DAYDREAMING_REQUIRE_BROWSER") != "1":
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)


def dismiss_community_dialog(page) -> None:
    """Dagster shows a newsletter dialog once per browser profile, a moment after the first
    page loads; it covers the page until skipped."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.get_by_role("button", name="Skip").click(timeout=8_000)
    except PlaywrightTimeout:
        return  # not shown (already dismissed in this browser profile)
    page.locator(".dagster-backdrop").first.wait_for(state="detached", timeout=10_000)


def latest_timestamp(home: Path, asset: str) -> float:
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with DagsterInstance.get() as instance:
            event = instance.get_latest_materialization_event(AssetKey(asset))
            return event.timestamp if event else 0.0
    finally:
        del os.environ["DAGSTER_HOME"]


NAMED_JOBS = {"setup", "generate", "judge", "summarise", "calibrate"}


def command_runs(home: Path) -> list[tuple[str, str]]:
    """(job name, run id) of every run the ``daydreaming`` command made in this instance."""
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with DagsterInstance.get() as instance:
            return [
                (run.job_name, run.run_id)
                for run in instance.get_runs()
                if "daydreaming/cli_pid" in run.tags
            ]
    finally:
        del os.environ["DAGSTER_HOME"]


def latest_answer(home: Path, project: Path) -> str:
    """The answer file of the generation the asset page shows (its latest materialization)."""
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with DagsterInstance.get() as instance:
            event = instance.get_latest_materialization_event(AssetKey("generation_response"))
            key = event.dagster_event.partition
    finally:
        del os.environ["DAGSTER_HOME"]
    folder = project / "data" / "03_generation" / "generation_responses"
    return text_path(folder, key).read_text(encoding="utf-8")


def test_the_ui_shows_the_graph_launches_a_materialization_and_shows_results(tmp_path, mock_llm):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM is not None, "chromium is required here (apt-get install chromium)"
    project = make_project(tmp_path / "project")
    home = project / "dagster_home"
    (home / "dagster.yaml").write_text(INSTANCE_YAML, encoding="utf-8")
    env = own_environment()
    env |= {
        "DAGSTER_HOME": str(home),
        "OPENROUTER_BASE_URL": mock_llm.base_url,
        "OPENROUTER_API_KEY": TEST_API_KEY,
    }
    first = subprocess.run(
        seed_run_command(["02_problem_solving"]),
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout + first.stderr
    before = latest_timestamp(home, "final_results")
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port),
         "-f", str(REPO_ROOT / "daydreaming_dagster" / "definitions.py")],
        cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/server_info", server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})

            # Every run of `daydreaming run` is a named job, and the Runs page says so.
            runs = command_runs(home)
            assert {name for name, _ in runs} == {"setup", "generate", "judge", "summarise"}
            page.goto(f"{base}/runs", wait_until="networkidle")
            dismiss_community_dialog(page)
            for job, run_id in runs:
                # One row per run (Dagster 1.13's runs feed), its short id and its target.
                row = page.locator("div[class*='RunsFeedRow_row']").filter(has_text=run_id[:8])
                row.first.wait_for(timeout=30_000)
                assert job in row.first.inner_text().split(), (run_id, row.first.inner_text())
            assert "__ephemeral_asset_job__" not in page.inner_text("body")
            page.screenshot(path=str(ARTIFACTS / "runs_named_jobs.png"), full_page=True)

            # A generation's answer is on the generation_response page itself.
            first_line = latest_answer(home, project).strip().splitlines()[0][:80]
            page.goto(f"{base}/assets/generation_response", wait_until="networkidle")
            page.get_by_text(first_line).first.wait_for(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "generation_response_answer.png"), full_page=True)

            page.goto(f"{base}/locations/definitions.py/asset-groups/results")
            page.get_by_text("final_results").first.wait_for(timeout=60_000)
            page.wait_for_load_state("networkidle")
            dismiss_community_dialog(page)
            page.screenshot(path=str(ARTIFACTS / "asset_graph_results.png"))

            page.goto(f"{base}/assets/final_results", wait_until="networkidle")
            dismiss_community_dialog(page)
            page.get_by_role("button", name="Materialize").first.click()
            deadline = time.monotonic() + 90
            while latest_timestamp(home, "final_results") <= before:
                assert time.monotonic() < deadline, "the run launched from the UI did not finish"
                time.sleep(0.5)

            page.reload(wait_until="networkidle")
            keys = ("headline", "report", "summary", "chart_score_distribution",
                    "chart_judge_agreement", "chart_paired_model_comparisons")  # fmt: skip
            for key in keys:
                page.get_by_text(key, exact=True).first.wait_for(timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "final_results_metadata.png"), full_page=True)
            row = page.get_by_role("row").filter(has_text="chart_score_distribution").first
            row.get_by_text("[Show Markdown]").click()
            chart = page.locator("img[src^='data:image/png']").first
            chart.wait_for(timeout=30_000)
            assert chart.bounding_box()["width"] > 200
            page.screenshot(path=str(ARTIFACTS / "final_results_chart.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
