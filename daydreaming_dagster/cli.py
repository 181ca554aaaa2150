"""``daydreaming``: run the whole experiment with one command, and read what it found.

``run`` uses the same Dagster instance as ``dagster dev`` (./dagster_home). This module only
parses arguments; ``orchestration`` does the work and ``console`` shows it. The other
subcommands (report, view, cache, mock-server) are one module each in ``commands``.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import PackageNotFoundError, version

from .commands import COMMANDS
from .console.research_commands import add_research_commands


def _csv_list(text: str) -> list[str]:
    items = [part.strip() for part in text.split(",") if part.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected a comma-separated list")
    return items


def _positive(text: str) -> float:
    if float(text) <= 0:
        raise argparse.ArgumentTypeError("expected a number above 0")
    return float(text)


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


WORKERS_HELP = "split the calls into N runs on Dagster's run queue and launcher (default 1)"
CALIBRATE_HELP = "first have every judge score the control texts in data/01_raw/controls"
MAX_COST_HELP = "never start a call whose worst-case cost would take this run past USD"


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of workers, 1 or more: {text!r}")
    return int(text)


def _package_version() -> str:
    try:
        return version("daydreaming-dagster")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="daydreaming", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_package_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="run setup, every generation and evaluation not yet done, and the summary"
    )
    _add_selection_flags(run)
    run.add_argument("--calibrate", action="store_true", help=CALIBRATE_HELP)
    run.add_argument("--max-cost", type=float, metavar="USD", help=MAX_COST_HELP)
    run.add_argument(
        "--request-timeout",
        type=_positive,
        metavar="SECONDS",
        help="longest wait for one answer before the attempt is retried (default 600)",
    )
    run.add_argument("--workers", type=_workers, default=1, metavar="N", help=WORKERS_HELP)
    estimate = commands.add_parser(
        "estimate",
        help="print the calls, tokens and cost a run would take, without calling any model",
    )
    _add_selection_flags(estimate)
    commands.add_parser(
        "local-server",
        help="build (once) and serve llama.cpp's llama-server with a small real model",
        add_help=False,
    ).add_argument("rest", nargs=argparse.REMAINDER)
    for command in COMMANDS.values():
        command.add_parser(commands)
    add_research_commands(commands)  # review export|import, compare
    return parser


def options_from(args: argparse.Namespace):
    from .orchestration.options import RunOptions, Selection

    selection = Selection(
        k_max=args.k_max,
        concepts=args.concepts,
        templates=args.templates,
        description_level=args.description_level,
        generation_replicates=args.generation_replicates,
        evaluation_replicates=args.evaluation_replicates,
    )
    return RunOptions(
        selection=selection,
        data_root=args.data_root,
        dagster_home=args.dagster_home,
        force=args.force,
        max_cost_usd=getattr(args, "max_cost", None),
        calibrate=getattr(args, "calibrate", False),
        request_timeout_s=getattr(args, "request_timeout", None),
        workers=getattr(args, "workers", 1),
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["local-server"]:
        from .local_server import main as local_server_main

        return local_server_main(argv[1:], prog="daydreaming local-server")
    args = build_parser().parse_args(argv)
    if args.command in COMMANDS:
        return COMMANDS[args.command].main(args)
    if hasattr(args, "handler"):  # review, compare
        return args.handler(args)
    from .console.commands import estimate_command, run_command
    from .llm_calls.interrupt import stop_on_sigint

    stop_on_sigint("\nStopping: no new call will start (Ctrl-C again to quit at once)...")
    try:
        if args.command == "run":
            return run_command(options_from(args))
        return estimate_command(options_from(args))
    except KeyboardInterrupt:
        print("\nInterrupted before the run could report; every answer received is stored.")
        print(f"Continue with: uv run daydreaming {' '.join(sys.argv[1:])}")
        return 130


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
