import subprocess
import sys
import textwrap

# A fresh interpreter: Dagster's record classes keep the frame of the first run that builds one,
# and in a process that has run Dagster before (this test session) that run is another one.
FIRST_RUN = textwrap.dedent("""
    import gc, sys, weakref
    from dagster import (
        AssetCheckResult, ConfigurableIOManager, Definitions, asset, asset_check,
        define_asset_job,
    )
    from daydreaming_dagster.instance.run_outputs import drop_outputs

    class Table:
        pass

    class Discard(ConfigurableIOManager):
        def handle_output(self, context, obj):
            pass

        def load_input(self, context):
            return Table()

    refs = []

    @asset
    def table():
        value = Table()
        refs.append(weakref.ref(value))
        return value

    @asset
    def summary(table):  # a step with an input, and an asset check: as the setup run has
        return None

    @asset_check(asset=table)
    def table_is_there(table):
        return AssetCheckResult(passed=True)

    job = Definitions(
        assets=[table, summary],
        asset_checks=[table_is_there],
        jobs=[define_asset_job("j")],
        resources={"io_manager": Discard()},
    ).resolve_job_def("j")
    result = job.execute_in_process()
    assert result.success
    if sys.argv[1] == "drop":
        drop_outputs(result)
    del result
    gc.collect()
    print("alive" if refs[0]() is not None else "freed")
    """)


def first_run(mode: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_RUN, mode], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_an_in_process_runs_outputs_are_freed_once_dropped():
    assert first_run("drop") == "freed"


def test_without_dropping_dagster_keeps_the_first_runs_outputs_alive():
    """Why drop_outputs exists. If this fails after a Dagster upgrade, the leak is fixed there
    and drop_outputs (and its call in orchestration.dagster_runs) can go."""
    assert first_run("keep") == "alive"
