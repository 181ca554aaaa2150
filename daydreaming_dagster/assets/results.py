"""Parsing judges' answers into scores, and summarising them."""

import base64
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from dagster import (
    AllPartitionMapping,
    AssetDep,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from ..experiment.call_identity import endpoint_host, sha256_text
from ..experiment.score_parsing import ParsedScore, parse_score
from ..experiment.statistics import (
    consensus_high,
    judge_agreement,
    judge_bias,
    replicate_spread,
)
from ..experiment.summary import all_summaries, to_markdown, top_responses
from ..experiment.summary_context import StageCounts, SummaryContext
from ..experiment.task_state import TaskState
from ..experiment.tasks import evaluation_tasks_by_id, generation_tasks_by_id
from ..records.data_layout import DataLayout, text_path, write_bytes_atomic, write_text_atomic
from ..records.task_status import (
    GENERATION_ANSWER,
    EvaluationStatus,
    ExperimentStatus,
    GenerationStatus,
    TaskStatusReader,
    experiment_status,
)
from ..resources.data_paths import DataPathsResource
from ..resources.llm_client import LLMClientResource
from .chart_drawing import drawing
from .report_step import report_metadata
from .research_results import extra_inputs_digest, research_results

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
    "state",
    "generation_state",
    "generation_answer_sha256",
    "generation_provider",
    "evaluation_provider",
]
STATUS_FILE = "task_status.json"
CONTEXT_FILE = "summary_context.json"
NO_RESPONSE = "no evaluation response yet (materialize evaluation_response for this partition)"


class ScoreReader:
    """Parses each done judgement while ``experiment_status`` has its answer at hand (it keeps
    no answer texts), so the scores need no second read of the files."""

    def __init__(self) -> None:
        self.parsed: dict[str, ParsedScore] = {}

    def __call__(self, status: GenerationStatus | EvaluationStatus) -> None:
        if isinstance(status, EvaluationStatus) and status.state is TaskState.DONE:
            self.parsed[status.task.task_id] = parse_score(status.stored.text or "")


def parse_all(
    evaluation_tasks: pd.DataFrame,
    status: ExperimentStatus,
    layout: DataLayout,
    parsed: dict[str, ParsedScore],
) -> pd.DataFrame:
    """One row per evaluation task. Only a done judgement (of the generation answer stored now,
    with the current template and settings) gets a score; a stale or missing one gets an error
    saying why, never a score. ``parsed`` holds the done judgements' scores (``ScoreReader``)."""
    columns: dict[str, list] = {name: [] for name in PARSED_SCORE_COLUMNS}  # not row dicts:
    # 19,800 of those held 30 MB at 12 concepts, column lists a fraction of it

    def add(**values) -> None:
        for name, value in values.items():
            columns[name].append(value)

    for task in evaluation_tasks.itertuples(index=False):
        judged = status.evaluations[task.evaluation_task_id]
        score = line = None
        if judged.state is TaskState.DONE:
            reading = parsed[task.evaluation_task_id]
            score, error, line = reading.score, reading.error, reading.score_line
        elif judged.state is TaskState.STALE:
            error = f"stale, not counted: {judged.decision.reason}"
        else:
            error = NO_RESPONSE
        record = judged.stored.record or {}
        add(
            evaluation_task_id=task.evaluation_task_id,
            generation_task_id=task.generation_task_id,
            combo_id=task.combo_id,
            generation_template=task.generation_template,
            generation_model=task.generation_model,
            evaluation_template=task.evaluation_template,
            evaluation_model=task.evaluation_model,
            score=score,
            error=error,
            score_line=line,
            evaluation_response_path=str(
                text_path(layout.evaluation_responses, task.evaluation_task_id)
            ),
            generation_response_path=str(
                text_path(layout.generation_responses, task.generation_task_id)
            ),
            generation_replicate=judged.task.generation_replicate,
            evaluation_replicate=judged.task.replicate,
            state=judged.state.value,
            generation_state=judged.generation.state.value,
            generation_answer_sha256=(
                record.get(GENERATION_ANSWER) if judged.state is TaskState.DONE else None
            ),
            generation_provider=(judged.generation.stored.record or {}).get("provider"),
            evaluation_provider=record.get("provider"),
        )
    table = pd.DataFrame(columns, columns=PARSED_SCORE_COLUMNS)
    table["score"] = table["score"].astype(float)
    return table


def summary_fingerprint(status: ExperimentStatus, layout: DataLayout | None = None) -> str:
    """The task states and answers, and the code that turns them into scores and summaries:
    a changed parser or statistic makes the summaries out of date like a changed answer. With
    ``layout``, new calibration or human scores do too."""
    from ..experiment import (
        headline,
        paired_comparisons,
        reliability,
        score_labels,
        score_parsing,
        score_values,
        statistics,
        summary,
    )
    from . import research_results as research

    sources = [Path(m.__file__).read_text("utf-8") for m in (
        score_labels, score_parsing, score_values, statistics, summary, headline,
        paired_comparisons, reliability, research)]  # fmt: skip
    sources.append(Path(__file__).read_text("utf-8"))
    extra = extra_inputs_digest(layout) if layout is not None else ""
    return sha256_text(status.fingerprint + "".join(sha256_text(s) for s in sources) + extra)


def counts_of(status: ExperimentStatus, stage: str) -> StageCounts:
    counts = status.counts(stage)
    set_aside = (
        status.set_aside_generations if stage == "generation" else status.set_aside_evaluations
    )
    return StageCounts(
        done=counts[TaskState.DONE],
        stale=counts[TaskState.STALE],
        to_do=counts[TaskState.TODO],
        set_aside=set_aside,
    )


def summary_context(
    status: ExperimentStatus,
    generation_tasks: pd.DataFrame,
    evaluation_tasks: pd.DataFrame,
    content_combinations: pd.DataFrame,
    layout: DataLayout | None = None,
) -> SummaryContext:
    """The selection as the task tables have it (not as some run config says it is)."""
    combos = content_combinations.groupby("combo_id")["concept_id"].count()
    return SummaryContext(
        endpoint_host=endpoint_host(status.base_url),
        generation_models=sorted(set(generation_tasks["generation_model"])),
        evaluation_models=sorted(set(evaluation_tasks["evaluation_model"])),
        concepts=sorted(set(content_combinations["concept_id"])),
        k_values=sorted({int(k) for k in combos}),
        description_levels=sorted(set(content_combinations["description_level"])),
        generation_templates=sorted(set(generation_tasks["generation_template"])),
        evaluation_templates=sorted(set(evaluation_tasks["evaluation_template"])),
        generation=counts_of(status, "generation"),
        evaluation=counts_of(status, "evaluation"),
        inputs_fingerprint=summary_fingerprint(status, layout),
        made_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


@asset(
    group_name=GROUP,
    kinds={"pandas", "csv"},
    io_manager_key="parsing_io_manager",
    deps=[AssetDep("evaluation_response", partition_mapping=AllPartitionMapping())],
)
def parsed_scores(
    context: AssetExecutionContext,
    evaluation_tasks: pd.DataFrame,
    generation_tasks: pd.DataFrame,
    content_combinations: pd.DataFrame,
    evaluation_templates: dict[str, str],
    llm: LLMClientResource,
    data_paths: DataPathsResource,
) -> MaterializeResult:
    """data/05_parsing/parsed_scores.csv: every judge's overall score, one row per evaluation
    task. Only judgements that are done (see task_status) are scored; stale and missing ones
    say why they are not (column ``error``)."""
    layout = data_paths.layout
    reader = TaskStatusReader(layout, llm.resolved_base_url(), evaluation_templates)
    scores = ScoreReader()
    try:
        status = experiment_status(
            reader,
            generation_tasks_by_id(generation_tasks),
            evaluation_tasks_by_id(evaluation_tasks),
            visit=scores,
        )
    except ValueError as exc:
        raise Failure(str(exc)) from None
    table = parse_all(evaluation_tasks, status, layout, scores.parsed)
    about = summary_context(
        status, generation_tasks, evaluation_tasks, content_combinations, layout
    )
    write_text_atomic(layout.parsing / STATUS_FILE, about.to_json())
    done = table["state"] == TaskState.DONE.value
    unparsed = int((done & table["score"].isna()).sum())
    if unparsed:
        context.log.warning(f"{unparsed} evaluation answers have no usable score; see 'error'.")
    stale = int((table["state"] == TaskState.STALE.value).sum())
    if stale:
        context.log.warning(
            f"{stale} judgements are stale (their inputs changed) and are not counted; the next "
            "run redoes them."
        )
    scored = table["score"].dropna()
    return MaterializeResult(
        value=table,
        metadata={
            "evaluation_tasks": len(table),
            "scored": len(scored),
            "missing_responses": int((table["state"] == TaskState.TODO.value).sum()),
            "stale": stale,
            "parse_errors": unparsed,
            "endpoint_host": about.endpoint_host,
            "mean_score": float(scored.mean()) if len(scored) else 0.0,
        },
    )


def read_context(layout: DataLayout) -> SummaryContext | None:
    """The context parsed_scores wrote, or None when it is missing or unreadable."""
    try:
        return SummaryContext.from_json((layout.parsing / STATUS_FILE).read_text("utf-8"))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def summary_tables(
    parsed_scores: pd.DataFrame, layout: DataLayout, about: SummaryContext | None
) -> tuple[dict[str, pd.DataFrame], str]:
    """Every summary table, written as CSV, and summary.md's text (headline first)."""
    research = research_results(parsed_scores, layout, about)
    tables = all_summaries(parsed_scores)
    tables["top_responses"] = top_responses(parsed_scores)
    tables["judge_agreement"] = judge_agreement(parsed_scores)
    tables["judge_bias"] = judge_bias(parsed_scores)
    tables["consensus_high"] = consensus_high(parsed_scores)
    tables["replicate_spread"] = replicate_spread(parsed_scores)
    for name, table in {**tables, **research.tables}.items():
        write_text_atomic(layout.summary / f"{name}.csv", table.to_csv(index=False))
    sections = [f"## {name.replace('_', ' ')}\n\n{to_markdown(t)}" for name, t in tables.items()]
    sections = [research.reliability_section, *sections, *research.later_sections]
    if about is not None:
        sections.insert(0, f"## context\n\n{about.markdown()}")
    sections.insert(0, research.headline_section)  # the answer comes first
    return tables, "\n\n".join(sections)


def write_charts(drawn: dict[str, bytes], folder: Path) -> dict[str, MetadataValue]:
    """The charts as PNG files, and as images (with their paths) for the UI."""
    charts = {}
    for name, png in drawn.items():
        path = folder / f"{name}.png"
        write_bytes_atomic(path, png, durable=False)  # redrawn from the scores at no cost
        charts[f"chart_{name}"] = MetadataValue.md(
            f"![{name}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
        )
        charts[f"chart_{name}_path"] = MetadataValue.path(str(path))
    return charts


@asset(group_name=GROUP, kinds={"pandas", "csv", "html"})
def final_results(
    context: AssetExecutionContext, parsed_scores: pd.DataFrame, data_paths: DataPathsResource
) -> MaterializeResult:
    """Summary tables in data/06_summary and as metadata in the UI: first the headline answer
    (reinvention rate per generator, with the calibration controls), shown in place as a table;
    judge reliability (Krippendorff's alpha); means with 95% bootstrap intervals over essays per
    model, template and combination; judge agreement (Spearman) and judge bias; paired model
    comparisons; judges against human reviewers; charts (PNG files, shown in the UI); and the
    static report (data/06_summary/report/index.html, linked as 'report')."""
    layout = data_paths.layout
    folder = layout.summary
    about = read_context(layout)
    (folder / CONTEXT_FILE).unlink(missing_ok=True)  # written again once all else is
    with drawing(parsed_scores) as drawn:  # beside the tables, for a small experiment
        tables, report = summary_tables(parsed_scores, layout, about)
        charts = write_charts(drawn(), folder)
    write_text_atomic(folder / "summary.md", "# DayDreaming results\n\n" + report + "\n")
    if about is not None:
        # Last: its fingerprint tells `daydreaming run` that these summaries are complete.
        write_text_atomic(folder / CONTEXT_FILE, about.to_json())
    context.log.info(f"Wrote {len(tables)} summary tables to {folder}")
    shown_first = report_metadata(layout, context.log)  # the report reads the files above
    scored = parsed_scores["score"].dropna()
    context_metadata = (
        {
            "endpoint_host": about.endpoint_host,
            "generations": about.generation.describe(),
            "evaluations": about.evaluation.describe(),
        }
        if about is not None
        else {}
    )
    return MaterializeResult(
        metadata={
            **shown_first,
            "summary": MetadataValue.md(report),
            **context_metadata,
            **charts,
            "folder": MetadataValue.path(str(folder)),
            "scored": len(scored),
            "unscored": int(parsed_scores["score"].isna().sum()),
            # One mean per rubric: a mean over two rubrics is no quantity at all.
            "mean_score_by_evaluation_template": "; ".join(
                f"{template}: {mean:.2f}"
                for template, mean in parsed_scores.groupby("evaluation_template")["score"]
                .mean()
                .dropna()
                .items()
            ),
        }
    )
