"""Writing the report: a run's folder (overview, matrix, one page per generation, the data
files the matrix loads), then the root pages that show the newest run and list every run.

Layout under ``data/06_summary/report/``::

    index.html, matrix.html      the newest run's overview and matrix (open index.html)
    runs.html                    every run, with its headline figures side by side
    runs/<run>/index.html        that run's overview, kept as it was written
    runs/<run>/matrix.html       every generation: filter, sort, search
    runs/<run>/generations/*.html   one page per generation
    runs/<run>/data/matrix.js    the matrix rows; data/text/NNNN.js the essays for the search
    runs/<run>/summary/, charts/ copies of the summary tables and charts it shows
    runs/<run>/run.json          what the list of runs and the root pages need

The data is in ``.js`` files loaded by ``<script>`` tags: browsers refuse ``fetch()`` of
``file://`` addresses, and this way the report opens from disk with no server. A run's folder is
written beside the old one and swapped in, so a reader never sees half a report.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..experiment.summary_context import SummaryContext
from ..records.data_layout import DataLayout, write_text_atomic
from . import pages
from .model import FLAG_LABELS, FLAGS, Generation, Judgement
from .runs import (
    RUN_FILE,
    RUNS_DIR,
    list_runs,
    read_cohorts,
    run_id_for,
    run_record,
    selection_text,
)
from .sources import Concept, ReportInputs, inputs_signature, load_generation, read_inputs
from .tables import chart_files, headline_table, summary_tables

TEXT_CHUNK = 250  # essays per search file: small enough to load in a blink, few files
COUNT_NAMES = ["done", "stale", "failed", "to do", "set aside"]


@dataclass(frozen=True)
class ReportResult:
    index: Path
    run_id: str
    run_folder: Path
    generations: int
    evaluations: int
    seconds: float
    rewritten: bool  # False: the run's folder was current, only the root pages were written


def _js(name: str, value: Any) -> str:
    return f"window.{name} = {json.dumps(value, ensure_ascii=False, separators=(',', ':'))};\n"


def _state_of(state: str, failure: str) -> str:
    if failure:
        return "failed"
    return state if state in ("done", "stale") else "to do"


def _cell(judgements: list[Judgement]) -> str | None:
    """A matrix score cell: the score as parsed_scores.csv has it (the mean, to 2 decimals,
    over evaluation replicates), else why there is none."""
    if not judgements:
        return None
    scores = [v for j in judgements if (v := j.score_value) is not None]
    if len(judgements) == 1 and scores:
        return judgements[0].score
    if scores:
        return f"{sum(scores) / len(scores):.2f}"
    first = judgements[0]
    if first.failure:
        return "failed"
    if first.unreadable:
        return "no score"
    return first.state or "to do"


def matrix_row(g: Generation, index: int, columns: list[tuple[str, str]]) -> dict[str, Any]:
    by_column: dict[tuple[str, str], list[Judgement]] = defaultdict(list)
    for j in g.judgements:
        by_column[(j.template, j.judge)].append(j)
    return {
        "i": index,
        "id": g.task_id,
        "href": pages.generation_href(g.task_id),
        "combo": g.combo_id,
        "concepts": list(g.concept_ids),
        "template": g.template,
        "model": g.model,
        "rep": g.replicate,
        "state": _state_of(g.state, g.failure),
        "flags": g.flags,
        "s": [_cell(by_column.get(column, [])) for column in columns],
    }


class _RunFolder:
    """Accumulates what the generations add to a run's folder while they are written."""

    def __init__(self, run_id: str, folder: Path, inputs: ReportInputs):
        self.run_id = run_id
        self.folder = folder
        self.inputs = inputs
        # One score column per (evaluation template, judge), sorted.
        self.columns = sorted(
            {(r["evaluation_template"], r["evaluation_model"]) for rows in inputs.scores.values()
             for r in rows}  # fmt: skip
        )
        self.rows: list[dict[str, Any]] = []
        self.texts: list[str] = []
        self.chunks = 0
        self.counts = {"generation": Counter(), "evaluation": Counter()}
        self.providers: dict[str, dict[str, set[str]]] = {
            "generation": defaultdict(set),
            "evaluation": defaultdict(set),
        }

    def add(self, g: Generation) -> None:
        concepts = [self.inputs.concepts.get(c) or Concept(c, c, "", "") for c in g.concept_ids]
        page = pages.generation_page(self.run_id, g, concepts, FLAG_LABELS)
        (self.folder / pages.GENERATIONS_DIR / pages.generation_file(g.task_id)).write_text(
            page, encoding="utf-8"
        )
        self.rows.append(matrix_row(g, len(self.rows), self.columns))
        self.counts["generation"][_state_of(g.state, g.failure)] += 1
        if g.call and g.call.provider:
            self.providers["generation"][g.model].add(g.call.provider)
        for j in g.judgements:
            self.counts["evaluation"][_state_of(j.state, j.failure)] += 1
            if j.call and j.call.provider:
                self.providers["evaluation"][j.judge].add(j.call.provider)
        self.texts.append(g.answer or "")
        if len(self.texts) == TEXT_CHUNK:
            self.flush_texts()

    def flush_texts(self) -> None:
        if not self.texts and self.chunks:
            return
        path = self.folder / "data" / "text" / f"{self.chunks:04d}.js"
        payload = json.dumps(self.texts, ensure_ascii=False)
        path.write_text(f"DAYDREAMING_TEXT({self.chunks}, {payload});\n", encoding="utf-8")
        self.chunks += 1
        self.texts = []


def _models(names: list[str], providers: dict[str, set[str]]) -> list[dict[str, Any]]:
    return [{"model": m, "providers": sorted(providers.get(m, set()))} for m in names]


def _overview_values(
    run_id: str, inputs: ReportInputs, built: _RunFolder, counts: dict, written_at: str
) -> dict[str, Any]:
    context: SummaryContext | None = inputs.context
    gen_models = context.generation_models if context else sorted({r["model"] for r in built.rows})
    judges = context.evaluation_models if context else sorted({j for _, j in built.columns})
    concept_ids = context.concepts if context else sorted(inputs.concepts)
    return {
        "run_id": run_id,
        "made_at": context.made_at if context else "",
        "written_at": written_at,
        "endpoint_host": context.endpoint_host if context else "",
        "local_endpoint": bool(context and context.local_endpoint),
        "generation_models": _models(gen_models, built.providers["generation"]),
        "evaluation_models": _models(judges, built.providers["evaluation"]),
        "concepts": [
            {"concept_id": c, "name": inputs.concepts[c].name if c in inputs.concepts else c}
            for c in concept_ids
        ],
        "selection": selection_text(context),
        "generation_templates": context.generation_templates if context else [],
        "evaluation_templates": context.evaluation_templates if context else [],
        "counts": counts,
        "count_names": COUNT_NAMES,
    }


def _matrix_values(inputs: ReportInputs, built: _RunFolder) -> dict[str, Any]:
    concept_ids = sorted({c for row in built.rows for c in row["concepts"]})
    return {
        "models": sorted({row["model"] for row in built.rows}),
        "templates": sorted({row["template"] for row in built.rows}),
        "concepts": [
            {"concept_id": c, "name": inputs.concepts[c].name if c in inputs.concepts else c}
            for c in concept_ids
        ],
        "flags": [[f, FLAG_LABELS[f]] for f in FLAGS],
        "score_columns": [{"template": t, "judge": j} for t, j in built.columns],
    }


def _copy_summary(summary: Path, folder: Path) -> None:
    for path in sorted(summary.glob("*.csv")) if summary.exists() else []:
        shutil.copyfile(path, folder / "summary" / path.name)
    for path in chart_files(summary):
        shutil.copyfile(path, folder / "charts" / path.name)


def write_run_folder(inputs: ReportInputs, run_id: str, folder: Path) -> dict[str, Any]:
    """Everything of one run, written beside ``folder`` and then swapped in; returns run.json."""
    tmp = folder.with_name(f".{run_id}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    for sub in (pages.GENERATIONS_DIR, "data/text", "summary", "charts"):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
    _copy_summary(inputs.layout.summary, tmp)
    built = _RunFolder(run_id, tmp, inputs)
    for row in inputs.generation_rows:
        built.add(load_generation(row, inputs))
    built.flush_texts()
    matrix = {
        "rows": built.rows,
        "textChunks": built.chunks,
        "chunkSize": TEXT_CHUNK,
        "flagLabels": FLAG_LABELS,
    }
    (tmp / "data" / "matrix.js").write_text(_js("DAYDREAMING_MATRIX", matrix), encoding="utf-8")
    context = inputs.context
    counts = {}
    for stage in ("generation", "evaluation"):
        counts[stage] = {name: built.counts[stage].get(name, 0) for name in COUNT_NAMES}
        counts[stage]["set aside"] = getattr(context, stage).set_aside if context else 0
    written_at = datetime.now(UTC).isoformat(timespec="seconds")
    record = run_record(run_id, context, inputs.layout.summary, counts, written_at)
    record["overview"] = _overview_values(run_id, inputs, built, counts, written_at)
    record["matrix"] = _matrix_values(inputs, built)
    record["evaluations"] = sum(len(rows) for rows in inputs.scores.values())
    record["inputs_signature"] = inputs_signature(inputs.layout)
    (tmp / RUN_FILE).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    _write_views(tmp, record, "run")
    old = folder.with_name(f".{run_id}.old-{os.getpid()}")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return record


def _write_views(folder: Path, record: dict[str, Any], where: str, target: Path | None = None):
    """The overview and the matrix of the run in ``folder``, written into ``target`` (the run's
    folder itself, or the report's root)."""
    target = target or folder
    overview = {
        **record["overview"],
        "headline": headline_table(folder / "summary"),
        "tables": summary_tables(folder / "summary", pages.generation_href),
        "charts": [p.name for p in chart_files(folder / "charts")],
    }
    write_text_atomic(target / "index.html", pages.overview_page(where, overview), durable=False)
    matrix = pages.matrix_page(where, record["run_id"], record["matrix"])
    write_text_atomic(target / "matrix.html", matrix, durable=False)


def _is_current(folder: Path, layout: DataLayout) -> dict[str, Any] | None:
    """The run's record when its folder was written from exactly the files there are now."""
    try:
        record = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if "overview" not in record:
        return None
    return record if record.get("inputs_signature") == inputs_signature(layout) else None


def write_report(layout: DataLayout, reuse_current: bool = False) -> ReportResult:
    """Write the report of the selection the task files describe now; with ``reuse_current``,
    a run folder already written from the same files (the summaries, scores, task table and
    failures) is kept and only the root pages are written again (they list the runs, which a
    cohort may have joined since)."""
    started = time.perf_counter()
    inputs = read_inputs(layout)
    run_id = run_id_for(inputs.context)
    root = layout.report
    folder = root / RUNS_DIR / run_id
    record = _is_current(folder, layout) if reuse_current else None
    rewritten = record is None
    if record is None:
        folder.parent.mkdir(parents=True, exist_ok=True)
        record = write_run_folder(inputs, run_id, folder)
    _write_views(folder, record, "root", target=root)
    runs = list_runs(root, read_cohorts(layout.cohorts), latest=run_id)
    write_text_atomic(root / "runs.html", pages.runs_page(runs, run_id), durable=False)
    return ReportResult(
        index=root / "index.html",
        run_id=run_id,
        run_folder=folder,
        generations=len(inputs.generation_rows),
        evaluations=int(record.get("evaluations", 0)),
        seconds=time.perf_counter() - started,
        rewritten=rewritten,
    )
