"""``daydreaming review export`` and ``import``: blinded sheets out, human scores in.

Export samples done essays (stratified by generation model), gives each an opaque id kept in
data/07_review/review_key.csv, and writes a sheet with only the id, the essay and the rubric.
Import checks every row before it stores anything, then rewrites the human scores file whole
and refreshes data/06_summary/judge_vs_human.csv. Bad input raises ``ReviewInputError``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..experiment.call_identity import sha256_text
from ..experiment.headline import RUBRIC_TEMPLATE
from ..experiment.prompts import evaluation_prompt_text
from ..experiment.reliability import judge_vs_human
from ..experiment.review_sheet import (
    ESSAY_PLACEHOLDER,
    KEY_COLUMNS,
    SHEET_COLUMNS,
    blinded_essay,
    describe_problems,
    merge_human_scores,
    model_name_forms,
    new_item_ids,
    read_filled_sheet,
    stratified_sample,
)
from ..records.data_layout import DataLayout, text_path, write_text_atomic
from ..records.human_review import (
    human_scores_path,
    key_path,
    read_human_scores,
    read_key,
    review_lock,
    write_human_scores,
    write_key,
)

PARSED = "parsed_scores.csv"
JUDGE_VS_HUMAN = "judge_vs_human.csv"


class ReviewInputError(ValueError):
    """Input a user can fix; ``lines`` say what and where."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class ExportResult:
    sheet: Path
    key_file: Path
    template: str
    asked: int
    available: int
    per_model: dict[str, int]
    seed: int


@dataclass(frozen=True)
class ImportResult:
    source: Path
    imported: int
    replaced: int
    scores_file: Path
    judge_vs_human_file: Path | None
    judge_vs_human: pd.DataFrame


def _parsed_scores(layout: DataLayout) -> pd.DataFrame:
    path = layout.parsing / PARSED
    if not path.exists():
        raise ReviewInputError([f"No scores yet ({path}): run `uv run daydreaming run` first."])
    return pd.read_csv(path, dtype={"generation_answer_sha256": str})


def _rubric(layout: DataLayout, template: str) -> str:
    path = layout.evaluation_templates_dir / f"{template}.txt"
    if not path.exists():
        known = sorted(p.stem for p in layout.evaluation_templates_dir.glob("*.txt"))
        raise ReviewInputError(
            [f"No evaluation template {template!r}; known: {', '.join(known) or 'none'}."]
        )
    return evaluation_prompt_text({template: path.read_text("utf-8")}, template, ESSAY_PLACEHOLDER)


def _essays_to_review(layout: DataLayout, template: str) -> pd.DataFrame:
    """Done generations of the current selection, with their answer text and its hash, less
    those a human already scored on ``template`` (in the answer stored now)."""
    parsed = _parsed_scores(layout)
    if "generation_state" in parsed.columns:
        parsed = parsed[parsed["generation_state"] == "done"]
    essays = parsed.drop_duplicates("generation_task_id")[
        ["generation_task_id", "generation_model"]
    ]
    texts = {}
    for task_id in essays["generation_task_id"]:
        path = text_path(layout.generation_responses, task_id)
        if path.exists():
            texts[task_id] = path.read_text(encoding="utf-8")
    essays = essays[essays["generation_task_id"].isin(texts)].copy()
    essays["essay"] = essays["generation_task_id"].map(texts)
    essays["generation_answer_sha256"] = essays["essay"].map(sha256_text)
    done = read_human_scores(layout)
    done = done[done["evaluation_template"] == template]
    reviewed = set(zip(done["generation_task_id"], done["generation_answer_sha256"], strict=True))
    keep = [
        (task, sha) not in reviewed
        for task, sha in zip(
            essays["generation_task_id"], essays["generation_answer_sha256"], strict=True
        )
    ]
    return essays[keep]


def export_review(
    data_root: str, n: int, out: Path, template: str = RUBRIC_TEMPLATE, seed: int | None = None
) -> ExportResult:
    """Write a blinded sheet of up to ``n`` essays to ``out`` and record its key."""
    layout = DataLayout(Path(data_root))
    if n < 1:
        raise ReviewInputError([f"--n must be 1 or more, not {n}."])
    if out.exists():
        raise ReviewInputError([f"{out} exists: choose another name, or delete it first."])
    if not out.parent.is_dir():
        raise ReviewInputError([f"No folder {out.parent} to write {out.name} into."])
    rubric = _rubric(layout, template)
    seed = secrets.randbelow(2**31) if seed is None else seed
    with review_lock(layout):
        essays = _essays_to_review(layout, template)
        if essays.empty:
            raise ReviewInputError(["No essay left to review: none is done, or all are scored."])
        chosen = essays.set_index("generation_task_id").loc[stratified_sample(essays, n, seed)]
        key = read_key(layout)
        ids = new_item_ids(len(chosen), key["item_id"])
        now = datetime.now(UTC).isoformat(timespec="seconds")
        added = pd.DataFrame(
            {
                "item_id": ids,
                "generation_task_id": chosen.index,
                "evaluation_template": template,
                "generation_answer_sha256": chosen["generation_answer_sha256"].to_numpy(),
                "sheet": out.name,
                "exported_at": now,
            }
        )
        write_key(layout, pd.concat([key, added], ignore_index=True)[KEY_COLUMNS])
        forms = model_name_forms(essays["generation_model"].unique())
        sheet = pd.DataFrame(
            {
                "item_id": ids,
                "evaluation_template": template,
                "score": "",
                "reviewer": "",
                "essay": [blinded_essay(text, forms) for text in chosen["essay"]],
                "rubric": rubric,
            }
        )
        write_text_atomic(out, sheet[SHEET_COLUMNS].to_csv(index=False))
    return ExportResult(
        sheet=out,
        key_file=key_path(layout),
        template=template,
        asked=n,
        available=len(essays),
        per_model=chosen["generation_model"].value_counts().sort_index().to_dict(),
        seed=seed,
    )


def _read_sheet(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise ReviewInputError([f"No file {path}."])
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ReviewInputError([f"{path} is empty."]) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0][:200]
        raise ReviewInputError([f"{path} is not a readable CSV file: {reason}"]) from None


def refresh_judge_vs_human(layout: DataLayout) -> tuple[Path | None, pd.DataFrame]:
    """Write judge_vs_human.csv from the parsed scores and the human scores stored now."""
    path = layout.parsing / PARSED
    if not path.exists():
        return None, pd.DataFrame()
    table = judge_vs_human(_parsed_scores(layout), read_human_scores(layout))
    out = layout.summary / JUDGE_VS_HUMAN
    write_text_atomic(out, table.to_csv(index=False))
    return out, table


def import_review(data_root: str, source: Path) -> ImportResult:
    """Store the scores of a filled sheet as judge ``human``: every row or none."""
    layout = DataLayout(Path(data_root))
    sheet = _read_sheet(source)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with review_lock(layout):
        key = read_key(layout)
        if key.empty:
            raise ReviewInputError([f"No review sheet was exported from {layout.root} yet."])
        scores, problems = read_filled_sheet(sheet, key, source.name, now)
        if problems:
            raise ReviewInputError(
                [f"{source}: nothing imported; fix these rows and import again:"]
                + [f"  {p}" for p in describe_problems(problems)]
            )
        merged, replaced = merge_human_scores(read_human_scores(layout), scores)
        write_human_scores(layout, merged)
    written, table = refresh_judge_vs_human(layout)
    return ImportResult(
        source=source,
        imported=len(scores),
        replaced=replaced,
        scores_file=human_scores_path(layout),
        judge_vs_human_file=written,
        judge_vs_human=table,
    )
