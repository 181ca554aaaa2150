"""Cohorts: what one ``daydreaming run`` was and what it produced, kept under
data/cohorts/<cohort_id>/ so later runs can be compared with it.

Each folder holds ``manifest.json`` (written last: a folder without one is incomplete) and
copies of that run's ``parsed_scores.csv``, ``headline.csv`` and ``summary_context.json``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .data_layout import DataLayout, write_bytes_atomic, write_json_atomic

MANIFEST = "manifest.json"
COPIED = {
    "parsed_scores.csv": lambda layout: layout.parsing / "parsed_scores.csv",
    "headline.csv": lambda layout: layout.summary / "headline.csv",
    "summary_context.json": lambda layout: layout.summary / "summary_context.json",
}
PROJECT_FOLDER = Path(__file__).resolve().parents[2]


def new_cohort_id(now: datetime) -> str:
    """Sortable by time, unique by a random tail: ``20261202T101500Z-3fa9c1``."""
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def input_digests(layout: DataLayout) -> dict[str, Any]:
    """sha256 of the concepts file, every template and the files that list models and
    templates: two cohorts with equal digests were asked the same questions."""
    digests: dict[str, Any] = {}
    for name, path in (
        ("concepts_file", layout.concepts_file),
        ("evaluation_templates_csv", layout.evaluation_templates_file),
        ("generation_models_csv", layout.generation_models_file),
        ("evaluation_models_csv", layout.evaluation_models_file),
    ):
        digests[name] = sha256_file(path) if path.exists() else None
    for name, folder in (
        ("generation_templates", layout.generation_templates_dir),
        ("evaluation_templates", layout.evaluation_templates_dir),
    ):
        files = sorted(folder.glob("*.txt")) if folder.exists() else []
        digests[name] = {p.stem: sha256_file(p) for p in files}
    return digests


def _git(*args: str) -> str | None:
    if shutil.which("git") is None:
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(PROJECT_FOLDER), *args],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def project_commit() -> dict[str, Any]:
    """The git commit of the code that made the results ("unknown" without git or a
    repository), and whether tracked files differed from it."""
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return {"git_commit": "unknown", "git_dirty": None}
    changes = _git("status", "--porcelain", "--untracked-files=no")
    return {"git_commit": commit, "git_dirty": bool(changes) if changes is not None else None}


def write_cohort(layout: DataLayout, cohort_id: str, manifest: dict[str, Any]) -> Path:
    """Copy the run's results into the cohort folder, then write its manifest (last)."""
    folder = layout.cohorts / cohort_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in COPIED.items():
        path = source(layout)
        if path.exists():
            write_bytes_atomic(folder / name, path.read_bytes())
    write_json_atomic(folder / MANIFEST, manifest)
    return folder


def cohort_ids(layout: DataLayout) -> list[str]:
    """Every complete cohort (one with a manifest), oldest first."""
    if not layout.cohorts.exists():
        return []
    return sorted(p.parent.name for p in layout.cohorts.glob(f"*/{MANIFEST}"))


def unchanged_cohort(layout: DataLayout, inputs: dict[str, Any]) -> str | None:
    """The newest cohort when the results now are exactly its copies (the same scores,
    headline and summary context, byte for byte) made from the same inputs: a run that changed
    nothing is that cohort again, not a new folder of the same files."""
    known = cohort_ids(layout)
    if not known:
        return None
    latest = layout.cohorts / known[-1]
    try:
        if read_manifest(layout, known[-1]).get("inputs_sha256") != inputs:
            return None
        for name, source in COPIED.items():
            path, copy = source(layout), latest / name
            if path.exists() != copy.exists():
                return None
            if path.exists() and sha256_file(path) != sha256_file(copy):
                return None
    except (OSError, ValueError):
        return None
    return known[-1]


def read_manifest(layout: DataLayout, cohort_id: str) -> dict[str, Any]:
    return json.loads((layout.cohorts / cohort_id / MANIFEST).read_text(encoding="utf-8"))


def read_cohort_scores(layout: DataLayout, cohort_id: str) -> pd.DataFrame:
    return pd.read_csv(layout.cohorts / cohort_id / "parsed_scores.csv")
