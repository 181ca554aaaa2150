"""``daydreaming``: run the whole experiment with one command, or serve a mock LLM endpoint.

``run`` uses the same Dagster instance as ``dagster dev`` (./dagster_home), so every step it
takes shows up in the UI afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

SETUP_ASSETS = [
    "concepts",
    "concepts_metadata",
    "generation_models",
    "evaluation_models",
    "generation_templates",
    "evaluation_templates",
    "content_combinations",
    "generation_tasks",
    "evaluation_tasks",
    "task_definitions",
]
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _csv_list(text: str) -> list[str]:
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def _add_selection_flags(command: argparse.ArgumentParser) -> None:
    command.add_argument("--k-max", type=int, help="concepts per combination (default 4)")
    command.add_argument(
        "--concepts", type=_csv_list, help="only these concept ids, comma-separated"
    )
    command.add_argument(
        "--templates", type=_csv_list, help="only these generation templates, comma-separated"
    )
    command.add_argument(
        "--description-level",
        choices=["sentence", "paragraph", "article"],
        help="concept description level (default paragraph)",
    )
    command.add_argument(
        "--generation-replicates",
        type=int,
        help="answers per generation task (default 1; above 1, keys end in _r<n>)",
    )
    command.add_argument(
        "--evaluation-replicates",
        type=int,
        help="judgements per (generation, template, judge) (default 1)",
    )
    command.add_argument("--data-root", default="data", help="data folder (default: data)")
    command.add_argument(
        "--dagster-home",
        default="dagster_home",
        help="Dagster instance folder when DAGSTER_HOME is not set (default: dagster_home)",
    )
    command.add_argument(
        "--force",
        action="store_true",
        help="call the models again even where the same call was already answered and stored",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="daydreaming", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run setup, every generation and evaluation not yet done, and the summary"
    )
    _add_selection_flags(run)
    run.add_argument(
        "--calibrate",
        action="store_true",
        help="first have every judge score the control texts in data/01_raw/controls",
    )
    run.add_argument(
        "--max-cost",
        type=float,
        metavar="USD",
        help="never start a call whose worst-case cost would take this run past USD",
    )
    estimate = commands.add_parser(
        "estimate",
        help="print the calls, tokens and cost a run would take, without calling any model",
    )
    _add_selection_flags(estimate)
    mock = commands.add_parser(
        "mock-server", help="serve a local OpenAI-compatible endpoint with canned answers"
    )
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=8765)
    mock.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    return parser


def experiment_config_from(args: argparse.Namespace):
    from .resources.experiment_config import ExperimentConfig

    overrides = {
        "k_max": args.k_max,
        "concept_ids_filter": args.concepts,
        "template_names_filter": args.templates,
        "description_level": args.description_level,
        "generation_replicates": args.generation_replicates,
        "evaluation_replicates": args.evaluation_replicates,
    }
    return ExperimentConfig(**{k: v for k, v in overrides.items() if v is not None})


def use_project_instance(dagster_home: str) -> Path:
    """Point DAGSTER_HOME at the project's instance unless the user chose another one."""
    current = os.environ.get("DAGSTER_HOME")
    if current:
        if not Path(current).expanduser().is_absolute():
            raise SystemExit(
                f"DAGSTER_HOME={current!r} is not an absolute path; Dagster requires one. "
                "Unset it to use ./dagster_home, or set it to an absolute path."
            )
        home = Path(current).expanduser()
    else:
        home = Path(dagster_home).resolve()
        os.environ["DAGSTER_HOME"] = str(home)
    home.mkdir(parents=True, exist_ok=True)
    return home


UP_TO_DATE = "Scores and summaries are up to date: nothing was answered since they were made."
INVOCATION_TAG = "daydreaming/invocation"
STAGES = {
    "generation": (["generation_prompt", "generation_response"], "generation_tasks"),
    "evaluation": (["evaluation_prompt", "evaluation_response"], "evaluation_tasks"),
}


# This command prints to the terminal itself; the runs it executes in-process do not also capture
# stdout/stderr into compute-log files, which took four helper processes (two `tail -F` and two
# Python watchers) for every step. Structured logs, events and metadata are unchanged, and runs
# launched from the UI keep the instance's compute logs.
NO_COMPUTE_LOGS = {
    "compute_logs": {
        "module": "dagster._core.storage.noop_compute_log_manager",
        "class": "NoOpComputeLogManager",
    }
}


def open_instance():
    """The instance at DAGSTER_HOME (see ``use_project_instance``), as this command uses it."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef

    return DagsterInstance.from_ref(
        InstanceRef.from_dir(os.environ["DAGSTER_HOME"], overrides=NO_COMPUTE_LOGS)
    )


def partition_range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """Run tags that make one run cover every partition from ``first_key`` to ``last_key``."""
    return {
        "dagster/asset_partition_range_start": first_key,
        "dagster/asset_partition_range_end": last_key,
    }


def materialize_selection(
    defs,
    instance,
    selection,
    tags=None,
    resources=None,
    partition_key=None,
    raise_on_error=False,
):
    """One in-process run of ``selection`` (with its asset checks) on ``instance``; failures are
    returned, unless ``raise_on_error``."""
    from dagster import materialize

    from .assets.partition_batches import PID_TAG

    return materialize(
        [*defs.assets, *(defs.asset_checks or [])],
        selection=selection,
        resources=resources or defs.resources,
        instance=instance,
        run_config=QUIET_LOGS,
        tags={PID_TAG: str(os.getpid()), **(tags or {})},
        partition_key=partition_key,
        raise_on_error=raise_on_error,
    )


def fail_orphaned_runs(instance) -> int:
    """Mark runs of a killed ``daydreaming`` process as failed, so the UI tells the truth."""
    from dagster import DagsterRunStatus, RunsFilter

    from .assets.partition_batches import PID_TAG, run_process_alive

    orphaned = 0
    runs = instance.get_runs(
        filters=RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING])
    )
    for run in runs:
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and int(pid) != os.getpid() and not run_process_alive(run):
            instance.report_run_failed(
                run, message=f"The daydreaming process (pid {pid}) ended while this run was going."
            )
            orphaned += 1
    return orphaned


class ProgressPrinter:
    """Prints how many answers a run has stored so far, from the files it writes."""

    def __init__(self, folder: Path, label: str, expected: int, every_s: float = 2.0):
        import threading

        self._folder, self._label, self._expected, self._every = folder, label, expected, every_s
        self._started = time.time()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _count(self) -> int:
        if not self._folder.exists():
            return 0
        return sum(
            1
            for entry in os.scandir(self._folder)
            if entry.name.endswith(".txt") and entry.stat().st_mtime >= self._started - 1
        )

    def _loop(self) -> None:
        shown = -1
        while not self._stop.wait(self._every):
            count = self._count()
            if count != shown:
                print(f"  {self._label}: {count}/{self._expected} answers stored", flush=True)
                shown = count

    def __enter__(self) -> ProgressPrinter:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _responses_folder(layout, stage: str) -> Path:
    return layout.generation_responses if stage == "generation" else layout.evaluation_responses


def ordered_keys(instance, stage: str, keys: list[str]) -> list[str]:
    """``keys`` in the order their partitions were registered (the order of a partition range);
    raises ValueError for a key that is not registered."""
    order = instance.get_dynamic_partitions(STAGES[stage][1])
    position = {key: i for i, key in enumerate(order)}
    unknown = [k for k in keys if k not in position]
    if unknown:
        raise ValueError(f"{unknown[0]} is not a registered partition")
    return sorted(keys, key=position.__getitem__)


def run_range(defs, instance, stage: str, ordered: list[str], llm, extra_tags=None):
    """One batch run over the partition range from ``ordered[0]`` to ``ordered[-1]`` (partitions
    in the range that are already done are skipped by the assets)."""
    from .run_reports import stage_report

    selection = STAGES[stage][0]
    tags = {**partition_range_tags(ordered[0], ordered[-1]), **(extra_tags or {})}
    result = materialize_selection(
        defs, instance, selection, tags=tags, resources={**defs.resources, "llm": llm}
    )
    return stage_report(stage, result, selection[1])


def prepare_results() -> None:
    """Import the chart library (about 0.3 s) ahead of the summary step, while waiting anyway."""
    import daydreaming_dagster.experiment.charts  # noqa: F401


def judge_range_fn(defs, instance, llm):
    """``keys -> StageReport`` for one evaluation chunk (see parallel_judging)."""
    return lambda keys: run_range(defs, instance, "evaluation", keys, llm)


def print_stage_result(report, started: float) -> None:
    print(
        f"{report.label}: {report.called} called, {report.reused} reused without a call, "
        f"{len(report.failures)} failed, {report.spent} spent "
        f"({time.perf_counter() - started:.1f}s)",
        flush=True,
    )


def run_stage(defs, instance, stage: str, keys: list[str], llm, layout, extra_tags=None):
    """One batch run over the partition range that covers ``keys``, with progress lines."""
    from .run_reports import StageReport

    if not keys:
        print(f"{stage}: nothing to do", flush=True)
        return StageReport(stage)
    try:
        ordered = ordered_keys(instance, stage, keys)
    except ValueError as exc:
        return StageReport(stage, run_ok=False, error=str(exc))
    started = time.perf_counter()
    with ProgressPrinter(_responses_folder(layout, stage), stage, len(keys)):
        report = run_range(defs, instance, stage, ordered, llm, extra_tags)
    print_stage_result(report, started)
    return report


def run_calibration(defs, instance, llm) -> None:
    """Judge the control texts and print how each judge ranked them (a warning if badly)."""
    import pandas as pd

    from .run_reports import check_results, first_failure_message

    result = materialize_selection(
        defs, instance, ["calibration_scores"], resources={**defs.resources, "llm": llm}
    )
    if not result.success:
        print(f"Calibration failed: {first_failure_message(result)}", file=sys.stderr)
        return
    table = pd.read_csv(defs.resources["data_paths"].layout.parsing / "calibration_scores.csv")
    wide = table.pivot_table(
        index=["evaluation_template", "evaluation_model"], columns="control", values="score"
    )
    print("Calibration (judge scores of the control texts):")
    print(wide.to_string(float_format=lambda v: f"{v:.1f}"))
    for name, passed, text in check_results(result):
        print(f"Check {name}: {'passed' if passed else 'WARNING'} ({text})")


def report_checks(setup) -> bool:
    """Print the validity checks of the setup run; False if one failed (no model is called)."""
    from .run_reports import check_results

    results = check_results(setup)
    failed = [(name, text) for name, passed, text in results if not passed]
    if failed:
        print("Stopped before any model call: a blocking validity check failed.", file=sys.stderr)
        for name, text in failed:
            print(f"  FAILED {name}: {text}", file=sys.stderr)
        return False
    if results:
        print(f"Validity checks: {len(results)} passed ({', '.join(n for n, _, _ in results)})")
    return True


def _prepare(args: argparse.Namespace):
    """Load .env, choose the instance, build definitions, and run the setup assets."""
    from dotenv import find_dotenv, load_dotenv

    load_dotenv(find_dotenv(usecwd=True), override=False)
    home = use_project_instance(args.dagster_home)
    from .definitions import build_definitions
    from .resources.llm_client import LLMClientResource

    defs = build_definitions(
        data_root=args.data_root,
        experiment_config=experiment_config_from(args),
        llm=LLMClientResource(reuse_stored_responses=not args.force),
    )
    layout = defs.resources["data_paths"].layout
    if not layout.raw.exists():
        raise SystemExit(f"No raw data at {layout.raw}: run this from the repository root.")
    return home, defs, layout


def _llm_for(args: argparse.Namespace, ledger: Path | None):
    from .resources.llm_client import LLMClientResource

    return LLMClientResource(
        reuse_stored_responses=not args.force,
        max_cost_usd=args.max_cost,
        budget_ledger=str(ledger) if ledger else None,
    )


def command_run(args: argparse.Namespace) -> int:
    """Setup; then generation in this process while a second process judges (and this one too,
    once generation is over); then scores and summaries."""
    import tempfile
    import uuid

    from .cost_estimate import estimate
    from .parallel_judging import (
        Assignment,
        ChunkResults,
        JudgingProcess,
        head_start_for,
        split_in_two,
    )
    from .run_reports import StageReport, first_failure_message

    home, defs, layout = _prepare(args)
    print(f"Dagster instance: {home}\nData folder: {layout.root.resolve()}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="daydreaming-run-"))
    ledger = work / "budget.json" if args.max_cost is not None else None
    llm = _llm_for(args, ledger)
    invocation = uuid.uuid4().hex
    with open_instance() as instance:
        orphaned = fail_orphaned_runs(instance)
        if orphaned:
            print(f"Marked {orphaned} run(s) of a killed daydreaming process as failed.")
        setup = materialize_selection(defs, instance, SETUP_ASSETS)
        if not report_checks(setup):
            return 1
        if not setup.success:
            print(f"Setup failed: {first_failure_message(setup)}", file=sys.stderr)
            return 1
        if args.calibrate:
            run_calibration(defs, instance, llm)
        plan = estimate(layout, llm.resolved_base_url(), reuse=not args.force)
        print_plan(plan)
        generation_keys = plan.pending("generation")
        evaluation_keys = ordered_keys(instance, "evaluation", plan.pending("evaluation"))
    # Forked here, with the instance closed: the judging process shares no database connection
    # and starts with everything already imported.
    judging = None
    if evaluation_keys:
        chunks = split_in_two(len(evaluation_keys), head_start_for(len(generation_keys)))
        assignment = Assignment(invocation, evaluation_keys, bool(generation_keys), chunks)
        judging = JudgingProcess(args, (home, defs, layout), assignment, work, ledger)
    reports: list[StageReport] = []
    try:
        with open_instance() as instance:
            with (
                ProgressPrinter(layout.evaluation_responses, "evaluation", len(evaluation_keys))
                if judging
                else contextlib.nullcontext()
            ):
                generation = run_stage(
                    defs,
                    instance,
                    "generation",
                    generation_keys,
                    llm,
                    layout,
                    extra_tags={INVOCATION_TAG: invocation},
                )
                reports.append(generation)
                if judging is not None:
                    if generation.stopped_the_run:
                        judging.queue.stop()
                        own = ChunkResults()
                    else:
                        own = judging.judge_from_back(judge_range_fn(defs, instance, llm))
                    reports.append(judging.finish(own, while_waiting=prepare_results))
            if judging is not None:
                print_stage_result(reports[-1], judging.started_at)
            else:
                print("evaluation: nothing to do", flush=True)
            ran = any(r.materialized or r.failures for r in reports)
            if ran or not results_current(layout, plan.status.fingerprint):
                results = materialize_selection(defs, instance, ["parsed_scores", "final_results"])
                results_ok = results.success
            else:
                results, results_ok = None, True
                print(UP_TO_DATE)
    finally:
        if judging is not None:
            judging.close()
    spent = sum(report.charged_usd for report in reports)
    print_summary(layout, reports, results_ok, spent)
    if results is not None:
        print_result_checks(results)
    failed = any(not r.run_ok or r.failures for r in reports) or not results_ok
    return 1 if failed else 0


def exit_with_parent(parent: int) -> None:
    """End this process if the ``daydreaming run`` that started it is gone (killed)."""
    import threading

    if os.getppid() != parent:
        os._exit(3)

    def watch() -> None:
        while True:
            time.sleep(0.2)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def wait_for_generation_run(instance, invocation: str, timeout_s: float = 120.0) -> None:
    """Evaluations wait for generations that a live run is producing; make sure that run exists
    before judging starts, so no evaluation mistakes a generation not yet started for a failure."""
    from dagster import RunsFilter

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if instance.get_runs(filters=RunsFilter(tags={INVOCATION_TAG: invocation}), limit=1):
            return
        time.sleep(0.1)


def print_summary(layout, reports, results_ok: bool, spent: float) -> None:
    import pandas as pd

    from .run_reports import format_spent, format_usage, usage_by_model

    print("\nSummary")
    for report in reports:
        print(
            f"  {report.label}: {report.called} called now, {report.reused} reused, "
            f"{len(report.failures)} failed"
        )
        for key, message in list(report.failures.items())[:10]:
            print(f"    FAILED {key}: {message}")
        if len(report.failures) > 10:
            print(f"    ... and {len(report.failures) - 10} more (see the run in the Dagster UI)")
        if not report.run_ok and not report.failures:
            print(f"    FAILED: {report.error}")
    print(f"Spent in this run: {format_spent(spent, reports)}")
    print("Tokens and cost of all stored answers, per model:")
    print(format_usage(usage_by_model([layout.generation_responses, layout.evaluation_responses])))
    top_file = layout.summary / "top_responses.csv"
    if results_ok and top_file.exists():
        top = pd.read_csv(top_file)
        print("Best generations (mean judge score per evaluation template):")
        for row in top.groupby("evaluation_template").head(3).itertuples(index=False):
            print(
                f"  {row.mean_score:4.1f}  [{row.evaluation_template}] {row.generation_task_id}"
                f"\n        {row.generation_response_path}"
            )
    elif not results_ok:
        print("parsed_scores/final_results failed; see the run in the Dagster UI.")
    print(f"Scores: {layout.parsing / 'parsed_scores.csv'}\nSummaries: {layout.summary}/")


def results_current(layout, fingerprint: str) -> bool:
    """Whether the scores and summaries were made from exactly the task states and answers
    there are now (their recorded fingerprint, see task_status), not from other ones."""
    from .assets.results import CONTEXT_FILE
    from .experiment.summary_context import SummaryContext

    if not (layout.parsing / "parsed_scores.csv").exists():
        return False
    try:
        made = SummaryContext.from_json((layout.summary / CONTEXT_FILE).read_text("utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return False
    return made.inputs_fingerprint == fingerprint


def print_plan(plan) -> None:
    """Done / stale / to do per stage, the calls that will be made, and what is set aside."""
    from .cost_estimate import set_aside_line
    from .experiment.task_state import TaskState

    for stage in ("generation", "evaluation"):
        counts = plan.status.counts(stage)
        print(
            f"{stage}: {counts[TaskState.DONE]} done, {counts[TaskState.STALE]} stale, "
            f"{counts[TaskState.TODO]} to do; {plan.expected_calls[stage]} calls to make",
            flush=True,
        )
    aside = set_aside_line(plan.status)
    if aside:
        print(aside, flush=True)


def print_result_checks(results) -> None:
    """Warnings about the results themselves (parse health), after the summary."""
    from .run_reports import check_results

    for name, passed, text in check_results(results):
        print(f"Check {name}: {'passed' if passed else 'WARNING'} ({text})")


def command_estimate(args: argparse.Namespace) -> int:
    from .cost_estimate import estimate, format_estimate
    from .run_reports import first_failure_message

    _home, defs, layout = _prepare(args)
    with open_instance() as instance:
        setup = materialize_selection(defs, instance, SETUP_ASSETS)
        if not setup.success:
            print(f"Setup failed: {first_failure_message(setup)}", file=sys.stderr)
            return 1
    plan = estimate(layout, defs.resources["llm"].resolved_base_url(), reuse=not args.force)
    print(format_estimate(plan))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return command_run(args)
    if args.command == "estimate":
        return command_estimate(args)
    from .mock_llm_server import run_mock_server

    run_mock_server(args.host, args.port, args.latency)
    return 0


def console_main() -> None:
    """The ``daydreaming`` command: ``main``, then exit without tearing the interpreter down.

    Every file, run and instance is closed by the time ``main`` returns; what is left is Python
    freeing Dagster's module graph one object at a time, which took about 0.6 s on every run.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
