"""Parsing judges' answers into scores, and summarising them."""

import base64
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import pandas as pd
from dagster import (
    AllPartitionMapping,
    AssetDep,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ..data_layout import text_path, write_bytes_atomic, write_text_atomic
from ..experiment.score_parsing import parse_score
from ..experiment.statistics import (
    consensus_high,
    judge_agreement,
    judge_bias,
    replicate_spread,
)
from ..experiment.summary import all_summaries, to_markdown, top_responses
from ..resources.data_paths import DataPathsResource

GROUP = "results"
PARSED_SCORE_COLUMNS = [
    "evaluation_task_id",
    "generation_task_id",
    "combo_id",
    "generation_template",
    "generation_model",
    "evaluation_template",
    "evaluation_model",
    "score",
    "error",
    "score_line",
    "evaluation_response_path",
    "generation_response_path",
    "generation_replicate",
    "evaluation_replicate",
]


def parse_all(evaluation_tasks: pd.DataFrame, data_paths: DataPathsResource) -> pd.DataFrame:
    """One row per evaluation task; a missing or unparseable answer gets an error, never a score."""
    layout = data_paths.layout
    rows = []
    for task in evaluation_tasks.itertuples(index=False):
        answer_path = text_path(layout.evaluation_responses, task.evaluation_task_id)
        if answer_path.exists():
            parsed = parse_score(answer_path.read_text(encoding="utf-8"))
            score, error, line = parsed.score, parsed.error, parsed.score_line
        else:
            score, line = None, None
            error = (
                "no evaluation response yet (materialize evaluation_response for this partition)"
            )
        rows.append(
            {
                "evaluation_task_id": task.evaluation_task_id,
                "generation_task_id": task.generation_task_id,
                "combo_id": task.combo_id,
                "generation_template": task.generation_template,
                "generation_model": task.generation_model,
                "evaluation_template": task.evaluation_template,
                "evaluation_model": task.evaluation_model,
                "score": score,
                "error": error,
                "score_line": line,
                "evaluation_response_path": str(answer_path),
                "generation_response_path": str(
                    text_path(layout.generation_responses, task.generation_task_id)
                ),
                "generation_replicate": int(getattr(task, "generation_replicate", 1) or 1),
                "evaluation_replicate": int(getattr(task, "replicate", 1) or 1),
            }
        )
    table = pd.DataFrame(rows, columns=PARSED_SCORE_COLUMNS)
    table["score"] = table["score"].astype(float)
    return table


@asset(
    group_name=GROUP,
    kinds={"pandas", "csv"},
    io_manager_key="parsing_io_manager",
    deps=[AssetDep("evaluation_response", partition_mapping=AllPartitionMapping())],
)
def parsed_scores(
    context: AssetExecutionContext,
    evaluation_tasks: pd.DataFrame,
    data_paths: DataPathsResource,
) -> MaterializeResult:
    """Every judge's overall score, one row per evaluation task (errors say why none)."""
    table = parse_all(evaluation_tasks, data_paths)
    missing = int(table["error"].str.startswith("no evaluation response", na=False).sum())
    unparsed = int(table["score"].isna().sum()) - missing
    if unparsed:
        context.log.warning(f"{unparsed} evaluation answers have no usable score; see 'error'.")
    return MaterializeResult(
        value=table,
        metadata={
            "evaluation_tasks": len(table),
            "scored": int(table["score"].notna().sum()),
            "missing_responses": missing,
            "parse_errors": unparsed,
            "mean_score": float(table["score"].mean()) if table["score"].notna().any() else 0.0,
        },
    )


def draw_charts(scores: pd.DataFrame) -> dict[str, bytes]:
    """Every chart as PNG bytes, by name."""
    from ..experiment.charts import CHARTS  # matplotlib: imported only when drawing (~0.4 s)

    return {name: draw(scores) for name, draw in CHARTS.items()}


def start_drawing(scores: pd.DataFrame) -> Callable[[], dict[str, bytes]]:
    """Draw the charts in a forked process while this one computes the tables, and return a
    function that waits for them. Importing matplotlib and drawing take about a second, the
    tables about half that, so the step takes the longer of the two instead of their sum. The
    child only draws; it touches no file and no database. Without ``fork``, draws here."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return lambda: draw_charts(scores)
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    future = pool.submit(draw_charts, scores)

    def wait() -> dict[str, bytes]:
        try:
            return future.result()
        finally:
            pool.shutdown()

    return wait


@asset(group_name=GROUP, kinds={"pandas", "csv"})
def final_results(
    context: AssetExecutionContext, parsed_scores: pd.DataFrame, data_paths: DataPathsResource
) -> MaterializeResult:
    """Summary tables in data/06_summary and as markdown in the UI: means with 95% bootstrap
    intervals per model, template and combination; judge agreement (Spearman) and judge bias;
    the generations every judge scored highly; and charts (PNG files, shown in the UI)."""
    folder = data_paths.layout.summary
    drawn = start_drawing(parsed_scores)
    tables = all_summaries(parsed_scores)
    tables["top_responses"] = top_responses(parsed_scores)
    tables["judge_agreement"] = judge_agreement(parsed_scores)
    tables["judge_bias"] = judge_bias(parsed_scores)
    tables["consensus_high"] = consensus_high(parsed_scores)
    tables["replicate_spread"] = replicate_spread(parsed_scores)
    for name, table in tables.items():
        write_text_atomic(folder / f"{name}.csv", table.to_csv(index=False))
    sections = [f"## {name.replace('_', ' ')}\n\n{to_markdown(t)}" for name, t in tables.items()]
    report = "\n\n".join(sections)
    charts = {}
    for name, png in drawn().items():
        path = folder / f"{name}.png"
        write_bytes_atomic(path, png, durable=False)  # redrawn from the scores at no cost
        charts[f"chart_{name}"] = MetadataValue.md(
            f"![{name}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
        )
        charts[f"chart_{name}_path"] = MetadataValue.path(str(path))
    write_text_atomic(folder / "summary.md", "# DayDreaming results\n\n" + report + "\n")
    context.log.info(f"Wrote {len(tables)} summary tables to {folder}")
    scored = parsed_scores["score"].dropna()
    return MaterializeResult(
        metadata={
            "summary": MetadataValue.md(report),
            **charts,
            "folder": MetadataValue.path(str(folder)),
            "scored": len(scored),
            "unscored": int(parsed_scores["score"].isna().sum()),
            "mean_score": float(scored.mean()) if len(scored) else 0.0,
        }
    )
