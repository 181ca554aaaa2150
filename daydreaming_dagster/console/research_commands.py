"""``daydreaming review export|import`` and ``daydreaming compare``: their options, and what
they print. Bad input ends in a few lines and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# ExitCode.DONE and ExitCode.CONFIG (a test holds them equal): exit_codes imports Dagster,
# which would cost seconds before a one-line error message.
DONE, BAD_INPUT = 0, 2
RUBRIC = "daydreaming_loop_rubric"


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, 1 or more: {text!r}")
    return int(text)


def add_research_commands(commands: argparse._SubParsersAction) -> None:
    """The ``review`` and ``compare`` subcommands, each with its handler as ``handler``."""
    review = commands.add_parser("review", help="blinded human review of essays")
    actions = review.add_subparsers(dest="review_action", required=True)
    export = actions.add_parser(
        "export", help="write a blinded review sheet: essays and rubric, no models or scores"
    )
    export.add_argument("--n", type=_count, required=True, help="essays to sample")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    export.add_argument("--template", default=RUBRIC, help=f"rubric to use (default {RUBRIC})")
    export.add_argument("--seed", type=int, help="random seed of the sample (default: random)")
    export.add_argument("--data-root", default="data", help="data folder (default: data)")
    export.set_defaults(handler=review_export_command)
    load = actions.add_parser("import", help="store a filled sheet's scores as the judge 'human'")
    load.add_argument("file", type=Path, metavar="FILE.csv")
    load.add_argument("--data-root", default="data", help="data folder (default: data)")
    load.set_defaults(handler=review_import_command)
    compare = commands.add_parser(
        "compare", help="how the means moved between two cohorts (runs), on shared items"
    )
    compare.add_argument("cohort_a", metavar="COHORT_A", help="cohort id (or its beginning)")
    compare.add_argument("cohort_b", metavar="COHORT_B")
    compare.add_argument("--data-root", default="data", help="data folder (default: data)")
    compare.set_defaults(handler=compare_command)


def _refuse(lines: list[str]) -> int:
    for line in lines[:14]:
        print(line, file=sys.stderr)
    return BAD_INPUT


def review_export_command(args: argparse.Namespace) -> int:
    from ..orchestration.review import ReviewInputError, export_review

    try:
        result = export_review(args.data_root, args.n, args.out, args.template, args.seed)
    except ReviewInputError as exc:
        return _refuse(exc.lines)
    shares = ", ".join(f"{n} from {model}" for model, n in result.per_model.items())
    total = sum(result.per_model.values())
    print(f"Wrote {total} essays to {result.sheet} (rubric {result.template}; {shares}).")
    if total < result.asked:
        print(
            f"Only {result.available} essays are done and not yet reviewed "
            f"(asked for {result.asked})."
        )
    print(f"The key (item id -> essay) is in {result.key_file}; the sheet shows no model names.")
    print(f"Fill in 'score' (0-10), then: uv run daydreaming review import {result.sheet}")
    return DONE


def review_import_command(args: argparse.Namespace) -> int:
    from ..experiment.summary import to_markdown
    from ..orchestration.review import ReviewInputError, import_review

    try:
        result = import_review(args.data_root, args.file)
    except ReviewInputError as exc:
        return _refuse(exc.lines)
    again = f" ({result.replaced} replaced earlier scores)" if result.replaced else ""
    print(f"Imported {result.imported} human scores{again} into {result.scores_file}.")
    if result.judge_vs_human_file is not None:
        print(f"Judges against humans: {result.judge_vs_human_file}")
        print(to_markdown(result.judge_vs_human))
    print("summary.md shows them after the next `daydreaming run` (nothing is called again).")
    return DONE


def compare_command(args: argparse.Namespace) -> int:
    from ..experiment.summary import to_markdown
    from ..orchestration.cohorts import CohortError, compare

    try:
        result = compare(args.data_root, args.cohort_a, args.cohort_b)
    except CohortError as exc:
        return _refuse([str(exc)])
    print(f"{result.cohort_b} minus {result.cohort_a}, on {result.shared_items} shared items:")
    print(to_markdown(result.table, max_rows=60))
    print(f"CSV: {result.csv}\nChart: {result.png}")
    return DONE
