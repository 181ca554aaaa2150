"""The human review files under data/07_review: the key of every exported sheet (item id ->
essay) and the imported human scores.

Both are rewritten whole through a temporary file and a rename, under a lock, so a failed or
concurrent import never leaves half a file. Nothing else writes here: no pipeline run, and no
LLM cache entry is ever made from a human score.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock

from ..experiment.review_sheet import HUMAN_COLUMNS, KEY_COLUMNS
from .data_layout import DataLayout, write_text_atomic

KEY_FILE = "review_key.csv"
SCORES_FILE = "human_scores.csv"


def key_path(layout: DataLayout) -> Path:
    return layout.review / KEY_FILE


def human_scores_path(layout: DataLayout) -> Path:
    return layout.review / SCORES_FILE


@contextmanager
def review_lock(layout: DataLayout) -> Iterator[None]:
    """One export or import at a time per data folder."""
    layout.review.mkdir(parents=True, exist_ok=True)
    with FileLock(str(layout.review / ".review.lock")):
        yield


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return table.reindex(columns=columns, fill_value="")


def read_key(layout: DataLayout) -> pd.DataFrame:
    """Every exported item (all text)."""
    return _read(key_path(layout), KEY_COLUMNS)


def read_human_scores(layout: DataLayout) -> pd.DataFrame:
    """Every imported human score (``score`` as a number)."""
    table = _read(human_scores_path(layout), HUMAN_COLUMNS)
    table["score"] = pd.to_numeric(table["score"], errors="coerce")
    return table


def write_key(layout: DataLayout, table: pd.DataFrame) -> None:
    write_text_atomic(key_path(layout), table[KEY_COLUMNS].to_csv(index=False))


def write_human_scores(layout: DataLayout, table: pd.DataFrame) -> None:
    write_text_atomic(human_scores_path(layout), table[HUMAN_COLUMNS].to_csv(index=False))
