"""The files a report is made of: the task table, the parsed scores, the answers and their call
records, the prompts, the concepts, and the failures ``daydreaming run`` recorded.

Tables are read once; each generation's files are read when that generation is written
(``load_generation``), so memory stays flat however many generations there are.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..experiment.summary_context import SummaryContext
from ..records.data_layout import DataLayout, read_record, text_path
from ..records.failed_tasks import read_failed_tasks
from .model import Call, Generation, Judgement

NOT_PARSED = "scores not parsed yet (run `daydreaming run`, or materialize parsed_scores)"


@dataclass(frozen=True)
class Concept:
    concept_id: str
    name: str
    description: str
    level: str


@dataclass
class ReportInputs:
    """Everything but the per-generation files: tables, concepts, context and failures."""

    layout: DataLayout
    generation_rows: list[dict[str, str]]
    scores: dict[str, list[dict[str, str]]]  # generation task id -> its parsed_scores rows
    concepts: dict[str, Concept]
    failures: dict[str, str]
    context: SummaryContext | None
    scores_parsed: bool


# What the report reads of each parsed_scores.csv row (the paths and providers it reads from
# the files themselves): at 19,800 rows, whole rows held about 40 MB while the report was written.
SCORE_COLUMNS = (
    "evaluation_task_id", "generation_task_id", "evaluation_template", "evaluation_model",
    "evaluation_replicate", "replicate", "state", "score", "error", "score_line",
    "generation_state", "generation_answer_sha256",
)  # fmt: skip


def read_rows(path: Path, columns: tuple[str, ...] | None = None) -> list[dict[str, str]]:
    """A CSV file as rows of text (exactly as written), or [] when it does not exist; only
    ``columns`` (those present) when given. Values repeated across rows (model and template
    names, states) are shared, not stored once per row."""
    if not path.exists():
        return []
    shared: dict[str, str] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        keep = [c for c in (columns or reader.fieldnames or ()) if c in (reader.fieldnames or ())]
        return [
            {c: shared.setdefault(row[c], row[c]) if len(row[c]) < 80 else row[c] for c in keep}
            for row in reader
        ]


def read_context(layout: DataLayout) -> SummaryContext | None:
    """The summaries' context (data/06_summary, else the one parsed_scores wrote)."""
    for path in (layout.summary / "summary_context.json", layout.parsing / "task_status.json"):
        try:
            return SummaryContext.from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return None


def read_concepts(layout: DataLayout) -> dict[str, Concept]:
    concepts = {}
    for row in read_rows(layout.tasks / "content_combinations.csv"):
        concepts.setdefault(
            row["concept_id"],
            Concept(row["concept_id"], row["name"], row["description"], row["description_level"]),
        )
    return concepts


def read_inputs(layout: DataLayout) -> ReportInputs:
    """The tables of the selection the task files describe now; raises FileNotFoundError when
    there is no task table yet (nothing was set up)."""
    tasks_file = layout.tasks / "generation_tasks.csv"
    if not tasks_file.exists():
        raise FileNotFoundError(
            f"No task table at {tasks_file}: run `uv run daydreaming run` (or the setup assets) "
            "first, then `uv run daydreaming report`."
        )
    generation_rows = read_rows(tasks_file)
    parsed_file = layout.parsing / "parsed_scores.csv"
    score_rows = read_rows(parsed_file, SCORE_COLUMNS)
    parsed = parsed_file.exists()
    if not parsed:
        score_rows = [
            {**row, "state": "", "score": "", "error": NOT_PARSED, "score_line": ""}
            for row in read_rows(layout.tasks / "evaluation_tasks.csv", SCORE_COLUMNS)
        ]
    scores: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in score_rows:
        scores[row["generation_task_id"]].append(row)
    return ReportInputs(
        layout=layout,
        generation_rows=generation_rows,
        scores=dict(scores),
        concepts=read_concepts(layout),
        failures=read_failed_tasks(layout),
        context=read_context(layout),
        scores_parsed=parsed,
    )


def inputs_signature(layout: DataLayout) -> str:
    """A hash of the names, sizes and times of the tables a report is made of (the summary
    folder's files, the scores, the task table, the failures): equal signatures, same report."""
    summary = sorted(layout.summary.glob("*.*")) if layout.summary.exists() else []
    paths = [
        *summary,
        layout.parsing / "parsed_scores.csv",
        layout.tasks / "generation_tasks.csv",
        layout.failed_tasks_file,
    ]
    parts = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return sha256_of("|".join(parts))


def read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _judgement(row: dict[str, str], inputs: ReportInputs) -> Judgement:
    layout = inputs.layout
    key = row["evaluation_task_id"]
    state = row.get("state", "")
    return Judgement(
        evaluation_task_id=key,
        template=row["evaluation_template"],
        judge=row["evaluation_model"],
        replicate=row.get("evaluation_replicate") or row.get("replicate") or "1",
        state=state,
        score=row.get("score", ""),
        error=row.get("error", ""),
        score_line=row.get("score_line", ""),
        answer=read_text(text_path(layout.evaluation_responses, key)),
        call=Call.from_record(read_record(layout.evaluation_responses, key)),
        failure=inputs.failures.get(key, "") if state != "done" else "",
    )


def generation_state(rows: list[dict[str, str]], answer: str | None) -> tuple[str, str]:
    """The generation's state as parsed_scores.csv has it, and stale (with the reason) when the
    answer stored now is not the one its judgements judged."""
    states = {row.get("generation_state", "") for row in rows} - {""}
    state = states.pop() if len(states) == 1 else ("done" if answer is not None else "to do")
    judged = {row.get("generation_answer_sha256", "") for row in rows} - {""}
    if answer is not None and judged and sha256_of(answer) not in judged:
        return "stale", "the answer was replaced after its scores were parsed"
    return state, ""


def load_generation(row: dict[str, str], inputs: ReportInputs) -> Generation:
    """One generation with its prompt, answer, call record and judgements, read now."""
    layout = inputs.layout
    key = row["generation_task_id"]
    rows = inputs.scores.get(key, [])
    answer = read_text(text_path(layout.generation_responses, key))
    state, reason = generation_state(rows, answer)
    judgements = sorted(
        (_judgement(r, inputs) for r in rows),
        key=lambda j: (j.template, j.judge, j.replicate),
    )
    return Generation(
        task_id=key,
        combo_id=row["combo_id"],
        concept_ids=tuple(c for c in row.get("concept_ids", "").split("|") if c),
        template=row["generation_template"],
        model=row["generation_model"],
        replicate=row.get("replicate") or "1",
        state=state,
        state_reason=reason,
        prompt=read_text(text_path(layout.generation_prompts, key)),
        answer=answer,
        call=Call.from_record(read_record(layout.generation_responses, key)),
        judgements=judgements,
        failure=inputs.failures.get(key, "") if state != "done" else "",
    )
