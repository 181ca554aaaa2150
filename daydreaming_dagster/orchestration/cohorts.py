"""Cohorts: ``daydreaming run`` records one per run; ``daydreaming compare A B`` says how the
means moved between two of them, on the items both share.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from ..experiment.call_identity import endpoint_host
from ..experiment.cohort_compare import compare_cohorts, shared_items
from ..records.cohorts import (
    COPIED,
    cohort_ids,
    input_digests,
    new_cohort_id,
    project_commit,
    read_cohort_scores,
    unchanged_cohort,
    write_cohort,
)
from ..records.data_layout import DataLayout, write_bytes_atomic, write_text_atomic
from .options import RunOptions


class CohortError(ValueError):
    """An unknown or incomplete cohort, said in a line a user can act on."""


@dataclass(frozen=True)
class Comparison:
    cohort_a: str
    cohort_b: str
    shared_items: int
    table: pd.DataFrame
    csv: Path
    png: Path


def served_by(scores: pd.DataFrame, model_column: str, provider_column: str) -> dict[str, list]:
    """Each model id and the providers its stored calls name (from the call records)."""
    if provider_column not in scores.columns:
        return {str(m): [] for m in sorted(scores[model_column].dropna().unique())}
    served: dict[str, list] = {}
    for model, group in scores.groupby(model_column, sort=True):
        served[str(model)] = sorted({str(p) for p in group[provider_column].dropna()})
    return served


def cohort_manifest(
    cohort_id: str, options: RunOptions, layout: DataLayout, base_url: str, status: str
) -> dict[str, Any]:
    """What the run was: its selection and settings, the models and who served them, hashes
    of its inputs and the code's commit. No secret: the endpoint appears as its host only."""
    scores = pd.read_csv(layout.parsing / "parsed_scores.csv")
    config = options.selection.experiment_config().model_dump()
    return {
        "cohort_id": cohort_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run_status": status,
        "selection": asdict(options.selection),
        "config": {
            "experiment": config,
            "endpoint_host": endpoint_host(base_url),
            "data_root": options.data_root,
            "force": options.force,
            "calibrate": options.calibrate,
            "max_cost_usd": options.max_cost_usd,
            "request_timeout_s": options.request_timeout_s,
            "workers": options.workers,
        },
        "models": {
            "generation": served_by(scores, "generation_model", "generation_provider"),
            "evaluation": served_by(scores, "evaluation_model", "evaluation_provider"),
        },
        "inputs_sha256": input_digests(layout),
        **project_commit(),
        "files": [name for name, source in COPIED.items() if source(layout).exists()],
    }


def record_cohort(options: RunOptions, layout: DataLayout, base_url: str, status: str) -> str:
    """Write this run's cohort folder; its id, or "" when the run left no parsed scores (or
    they cannot be read: the run's results stand without a cohort). A run whose results are
    exactly the newest cohort's is that cohort (see ``unchanged_cohort``)."""
    if not (layout.parsing / "parsed_scores.csv").exists():
        return ""
    try:
        same = unchanged_cohort(layout, input_digests(layout))
    except OSError:
        same = None
    if same is not None:
        return same
    cohort_id = new_cohort_id(datetime.now(UTC))
    try:
        manifest = cohort_manifest(cohort_id, options, layout, base_url, str(status))
        write_cohort(layout, cohort_id, manifest)
    except (OSError, ValueError):
        return ""
    return cohort_id


def resolve_cohort(layout: DataLayout, name: str) -> str:
    """A cohort id from its full id or a unique beginning of it."""
    known = cohort_ids(layout)
    if name in known:
        return name
    matches = [c for c in known if c.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    if not known:
        raise CohortError(f"No cohorts in {layout.cohorts}: each `daydreaming run` records one.")
    latest = ", ".join(known[-3:])
    if matches:
        raise CohortError(f"{name!r} matches {len(matches)} cohorts; give more of the id.")
    raise CohortError(f"No cohort {name!r} in {layout.cohorts} (latest: {latest}).")


def compare(data_root: str, first: str, second: str) -> Comparison:
    """B - A per generation model, generation template and evaluation template, with paired
    bootstrap intervals; written to data/06_summary/compare/<A>__vs__<B>.csv and .png."""
    from ..experiment.forest_charts import cohort_forest  # matplotlib, only when drawing

    layout = DataLayout(Path(data_root))
    a, b = resolve_cohort(layout, first), resolve_cohort(layout, second)
    try:
        scores_a, scores_b = read_cohort_scores(layout, a), read_cohort_scores(layout, b)
    except (OSError, ValueError) as exc:
        raise CohortError(f"Cannot read a cohort's parsed_scores.csv: {exc}") from None
    try:
        table = compare_cohorts(scores_a, scores_b)
    except KeyError as exc:
        raise CohortError(f"A cohort's parsed_scores.csv lacks the column {exc}.") from None
    folder = layout.summary / "compare"
    stem = f"{a}__vs__{b}"
    csv, png = folder / f"{stem}.csv", folder / f"{stem}.png"
    write_text_atomic(csv, table.to_csv(index=False))
    write_bytes_atomic(png, cohort_forest(table), durable=False)
    return Comparison(a, b, len(shared_items(scores_a, scores_b)), table, csv, png)
