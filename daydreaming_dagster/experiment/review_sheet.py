"""Human review sheets: which essays a person scores, what they see, and reading the filled
sheet back without letting a bad row in.

A sheet is blinded: each row has an opaque item id, the essay and the rubric, and no model
name, task id or judge score. The key from item id to essay stays in the data folder.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .score_parsing import visible_answer

HUMAN_JUDGE = "human"
LOWEST, HIGHEST = 0.0, 10.0
SHEET_COLUMNS = ["item_id", "evaluation_template", "score", "reviewer", "essay", "rubric"]
KEY_COLUMNS = [
    "item_id",
    "generation_task_id",
    "evaluation_template",
    "generation_answer_sha256",
    "sheet",
    "exported_at",
]
HUMAN_COLUMNS = [
    "item_id",
    "generation_task_id",
    "evaluation_template",
    "evaluation_model",
    "score",
    "reviewer",
    "generation_answer_sha256",
    "imported_at",
    "source_file",
]
ESSAY_PLACEHOLDER = "[the essay: see the 'essay' column of this row]"
MAX_REPORTED = 10


MODEL_MASK = "[model]"


def model_name_forms(models: Iterable[str]) -> list[str]:
    """The ways an essay may name a generation model: its id, the part after the provider, and
    that without a ``:variant`` suffix (``google/gemma-3-27b-it:free``, ``gemma-3-27b-it:free``,
    ``gemma-3-27b-it``), longest first so a longer form is masked before its parts."""
    forms = set()
    for model in models:
        tail = model.split("/", 1)[-1]
        forms.update({model, tail, tail.split(":", 1)[0]})
    return sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)


def mask_model_names(text: str, forms: list[str]) -> str:
    """``text`` with every form of a model name replaced by ``[model]`` (any case): a sheet is
    blind only if the essay does not say who wrote it."""
    for form in forms:
        text = re.sub(re.escape(form), MODEL_MASK, text, flags=re.IGNORECASE)
    return text


def blinded_essay(answer: str, forms: list[str]) -> str:
    """The essay as a reviewer sees it: without the generator's reasoning (a ``<think>`` block
    says a reasoning model wrote it, and it is not the essay) and with model names masked."""
    return mask_model_names(visible_answer(answer).strip(), forms)


def stratified_sample(essays: pd.DataFrame, n: int, seed: int) -> list[str]:
    """Up to ``n`` generation task ids, spread as evenly as possible over generation models
    (a model with too few essays gives its share to the others), in random order."""
    rng = np.random.default_rng(seed)
    pools = {
        model: [str(x) for x in rng.permutation(sorted(group["generation_task_id"]))]
        for model, group in essays.groupby("generation_model", sort=True)
    }
    picked: list[str] = []
    while len(picked) < n and any(pools.values()):
        for model in sorted(pools):
            if pools[model] and len(picked) < n:
                picked.append(pools[model].pop(0))
    return [str(x) for x in rng.permutation(picked)] if picked else []


def new_item_ids(count: int, taken: Iterable[str]) -> list[str]:
    """Opaque, random ids (nothing in them says which essay or model), unique in the key."""
    used = set(taken)
    ids: list[str] = []
    while len(ids) < count:
        candidate = f"R{secrets.token_hex(5)}"
        if candidate not in used:
            used.add(candidate)
            ids.append(candidate)
    return ids


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _row_problem(row: dict[str, str], known: pd.DataFrame, seen: dict[str, int], line: int) -> str:
    """What is wrong with one filled-in row (empty when nothing is)."""
    item = row.get("item_id", "").strip()
    if not item:
        return f"row {line}: no item_id"
    where = f"row {line} (item {item})"
    if item not in known.index:
        return f"{where}: unknown item_id, not in any sheet exported from this data folder"
    if item in seen:
        return f"{where}: the item appears twice (first on row {seen[item]})"
    template = row.get("evaluation_template", "").strip()
    if template and template != known.at[item, "evaluation_template"]:
        return (
            f"{where}: evaluation_template {template!r} is not the exported "
            f"{known.at[item, 'evaluation_template']!r}"
        )
    text = row.get("score", "").strip()
    if not text:
        return f"{where}: no score"
    value = _number(text)
    if value is None:
        return f"{where}: score {text!r} is not a number (write e.g. 6 or 6.5)"
    if not LOWEST <= value <= HIGHEST:
        return f"{where}: score {text} is outside {LOWEST:g}-{HIGHEST:g}"
    return ""


def read_filled_sheet(
    sheet: pd.DataFrame, key: pd.DataFrame, source: str, imported_at: str
) -> tuple[pd.DataFrame, list[str]]:
    """The human scores of a filled sheet (all cells read as text), and every problem found.
    With any problem the scores are empty: a sheet is taken whole or not at all."""
    missing = [c for c in ("item_id", "score") if c not in sheet.columns]
    if missing:
        return pd.DataFrame(columns=HUMAN_COLUMNS), [
            f"the file has no {' or '.join(repr(c) for c in missing)} column "
            f"(an exported sheet has {', '.join(SHEET_COLUMNS)})"
        ]
    if sheet.empty:
        return pd.DataFrame(columns=HUMAN_COLUMNS), ["the file has no rows to import"]
    known = key.drop_duplicates("item_id", keep="last").set_index("item_id")
    problems, seen, rows = [], {}, []
    for index, row in enumerate(sheet.fillna("").to_dict("records")):
        line = index + 2  # as a spreadsheet numbers it: the header is row 1
        problem = _row_problem({k: str(v) for k, v in row.items()}, known, seen, line)
        if problem:
            problems.append(problem)
            continue
        item = str(row["item_id"]).strip()
        seen[item] = line
        rows.append(
            {
                "item_id": item,
                "generation_task_id": known.at[item, "generation_task_id"],
                "evaluation_template": known.at[item, "evaluation_template"],
                "evaluation_model": HUMAN_JUDGE,
                "score": float(str(row["score"]).strip()),
                "reviewer": str(row.get("reviewer", "")).strip(),
                "generation_answer_sha256": known.at[item, "generation_answer_sha256"],
                "imported_at": imported_at,
                "source_file": source,
            }
        )
    if problems:
        return pd.DataFrame(columns=HUMAN_COLUMNS), problems
    return pd.DataFrame(rows, columns=HUMAN_COLUMNS), []


def merge_human_scores(stored: pd.DataFrame, new: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The stored human scores with ``new`` added; a re-imported item replaces its old score.
    Also returns how many stored scores were replaced."""
    replaced = stored["item_id"].isin(new["item_id"])
    kept = stored[~replaced]
    merged = pd.concat([kept, new], ignore_index=True) if len(kept) else new.copy()
    return merged[HUMAN_COLUMNS].reset_index(drop=True), int(replaced.sum())


def describe_problems(problems: list[str]) -> list[str]:
    """At most ``MAX_REPORTED`` problems, then how many more there are."""
    shown = problems[:MAX_REPORTED]
    if len(problems) > MAX_REPORTED:
        shown.append(f"... and {len(problems) - MAX_REPORTED} more")
    return shown
