"""``daydreaming``: run the whole experiment with one command, or serve a mock LLM endpoint.

``run`` uses the same Dagster instance as ``dagster dev`` (./dagster_home), so every step it
takes shows up in the UI afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="daydreaming", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run setup, every generation and evaluation not yet done, and the summary"
    )
    run.add_argument("--k-max", type=int, help="concepts per combination (default 4)")
    run.add_argument("--concepts", type=_csv_list, help="only these concept ids, comma-separated")
    run.add_argument(
        "--templates", type=_csv_list, help="only these generation templates, comma-separated"
    )
    run.add_argument(
        "--description-level",
        choices=["sentence", "paragraph", "article"],
        help="concept description level (default paragraph)",
    )
    run.add_argument("--data-root", default="data", help="data folder (default: data)")
    run.add_argument(
        "--dagster-home",
        default="dagster_home",
        help="Dagster instance folder when DAGSTER_HOME is not set (default: dagster_home)",
    )
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


@dataclass
class RunTally:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _failure_message(result) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            error = event.event_specific_data.error
            message = error.message.strip() if error else "step failed"
            return message.splitlines()[0][:300]
    return "run failed"


def materialize_selection(defs, instance, selection, partition_key=None):
    """One in-process run of ``selection`` on ``instance``; failures are returned, not raised."""
    from dagster import materialize

    return materialize(
        list(defs.assets),
        selection=selection,
        partition_key=partition_key,
        resources=defs.resources,
        instance=instance,
        run_config=QUIET_LOGS,
        raise_on_error=False,
    )


def run_partitions(defs, instance, selection, keys, done_path, label, tally, should_skip=None):
    """Materialize ``selection`` for every key whose output file is missing, one run each."""
    pending = [k for k in keys if not done_path(k).exists()]
    waiting = {k for k in pending if should_skip is not None and should_skip(k)}
    todo = [k for k in pending if k not in waiting]
    tally.skipped.extend(sorted(waiting))
    extra = f", {len(waiting)} waiting for a generation that failed" if waiting else ""
    print(
        f"{label}: {len(keys)} tasks, {len(keys) - len(pending)} already done, "
        f"{len(todo)} to run{extra}",
        flush=True,
    )
    for number, key in enumerate(todo, start=1):
        started = time.perf_counter()
        result = materialize_selection(defs, instance, selection, partition_key=key)
        seconds = time.perf_counter() - started
        if result.success:
            tally.done.append(key)
            status = "ok"
        else:
            tally.failed[key] = _failure_message(result)
            status = f"FAILED: {tally.failed[key]}"
        print(f"  [{number}/{len(todo)}] {key} {status} ({seconds:.1f}s)", flush=True)


def _call_records(folder: Path) -> list[dict]:
    if not folder.exists():
        return []
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def usage_lines(layout) -> list[str]:
    lines = []
    for label, folder in (
        ("generation", layout.generation_responses),
        ("evaluation", layout.evaluation_responses),
    ):
        records = _call_records(folder)
        tokens = sum(r.get("total_tokens") or 0 for r in records)
        costs = [r["cost_usd"] for r in records if r.get("cost_usd") is not None]
        cost = f"${sum(costs):.4f}" if costs else "not reported"
        lines.append(f"  {label}: {len(records)} stored answers, {tokens} tokens, cost {cost}")
    return lines


def command_run(args: argparse.Namespace) -> int:
    from dotenv import find_dotenv, load_dotenv

    load_dotenv(find_dotenv(usecwd=True), override=False)
    home = use_project_instance(args.dagster_home)

    import pandas as pd
    from dagster import DagsterInstance

    from .data_layout import text_path
    from .definitions import build_definitions

    defs = build_definitions(
        data_root=args.data_root, experiment_config=experiment_config_from(args)
    )
    layout = defs.resources["data_paths"].layout
    if not layout.raw.exists():
        print(f"No raw data at {layout.raw}: run this from the repository root.", file=sys.stderr)
        return 2
    print(f"Dagster instance: {home}\nData folder: {layout.root.resolve()}", flush=True)
    with DagsterInstance.get() as instance:
        setup = materialize_selection(defs, instance, SETUP_ASSETS)
        if not setup.success:
            print(f"Setup failed: {_failure_message(setup)}", file=sys.stderr)
            return 1
        generation = pd.read_csv(layout.tasks / "generation_tasks.csv")
        evaluation = pd.read_csv(layout.tasks / "evaluation_tasks.csv")
        gen_tally, eval_tally = RunTally(), RunTally()
        run_partitions(
            defs,
            instance,
            ["generation_prompt", "generation_response"],
            list(generation["generation_task_id"]),
            lambda k: text_path(layout.generation_responses, k),
            "Generation",
            gen_tally,
        )
        parent = dict(
            zip(evaluation["evaluation_task_id"], evaluation["generation_task_id"], strict=True)
        )
        run_partitions(
            defs,
            instance,
            ["evaluation_prompt", "evaluation_response"],
            list(evaluation["evaluation_task_id"]),
            lambda k: text_path(layout.evaluation_responses, k),
            "Evaluation",
            eval_tally,
            should_skip=lambda k: not text_path(layout.generation_responses, parent[k]).exists(),
        )
        results = materialize_selection(defs, instance, ["parsed_scores", "final_results"])
    print_summary(layout, gen_tally, eval_tally, results.success)
    failed = gen_tally.failed or eval_tally.failed or eval_tally.skipped or not results.success
    return 1 if failed else 0


def print_summary(layout, gen_tally: RunTally, eval_tally: RunTally, results_ok: bool) -> None:
    import pandas as pd

    print("\nSummary")
    for label, tally in (("generation", gen_tally), ("evaluation", eval_tally)):
        print(
            f"  {label}: {len(tally.done)} run now, {len(tally.failed)} failed, "
            f"{len(tally.skipped)} skipped (their generation failed)"
        )
        for key, message in list(tally.failed.items())[:10]:
            print(f"    FAILED {key}: {message}")
    print("Usage of all stored answers:")
    print("\n".join(usage_lines(layout)))
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


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return command_run(args)
    from .mock_llm_server import run_mock_server

    run_mock_server(args.host, args.port, args.latency)
    return 0


if __name__ == "__main__":
    sys.exit(main())
