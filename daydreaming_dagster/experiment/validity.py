"""Guards that make a result meaningless if they fail: leaked hints and post-cut-off models.

A generator that saw the target idea in its prompt, or was trained after the idea was published,
cannot "reinvent" it. Both are checked before any model is called.
"""

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

# Models released on or after this date may have seen the idea in their training data.
TRAINING_CUTOFF = date(2025, 6, 1)


@dataclass(frozen=True)
class Leak:
    source: str  # e.g. "concept default-mode-network (paragraph)" or "template 02_problem_solving"
    phrase: str
    excerpt: str

    def describe(self) -> str:
        return f"{self.source} contains {self.phrase!r}: ...{self.excerpt}..."


def load_leak_phrases(path: Path) -> list[str]:
    """One phrase per line; blank lines and lines starting with '#' are ignored."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip().lower() for line in lines if line.strip() and not line.startswith("#")]


def _normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


def find_leaks(texts: dict[str, str], phrases: list[str]) -> list[Leak]:
    """Every (source, phrase) where the phrase occurs in the text, case and spacing ignored."""
    leaks = []
    for source, text in texts.items():
        flat = _normalized(text)
        for phrase in phrases:
            at = flat.find(_normalized(phrase))
            if at >= 0:
                excerpt = flat[max(0, at - 40) : at + len(phrase) + 40]
                leaks.append(Leak(source, phrase, excerpt))
    return leaks


def late_models(models: pd.DataFrame, cutoff: date = TRAINING_CUTOFF) -> list[str]:
    """A message for each model released on or after ``cutoff``, or with no valid date (which
    cannot be shown to predate it)."""
    problems = []
    column = models["release_date"] if "release_date" in models.columns else None
    for position, model in enumerate(models["model"]):
        raw = "" if column is None else column.iloc[position]
        released = pd.to_datetime(raw, errors="coerce") if isinstance(raw, str) else pd.NaT
        if pd.isna(released):
            problems.append(
                f"{model} has no valid release_date ({raw!r}); give it as YYYY-MM-DD in the "
                "models CSV, or set active=false."
            )
        elif released.date() >= cutoff:
            problems.append(
                f"{model} was released {released.date().isoformat()}, on or after the "
                f"{cutoff.isoformat()} cut-off: it may have seen the idea. Set active=false."
            )
    return problems


@dataclass(frozen=True)
class ParseHealth:
    judged: int  # evaluation answers that exist
    unparsed: int  # ... with no readable score
    generations: int  # generation answers with a call record
    truncated: int  # ... that stopped at max_tokens

    @property
    def unparsed_share(self) -> float:
        return self.unparsed / self.judged if self.judged else 0.0

    @property
    def truncated_share(self) -> float:
        return self.truncated / self.generations if self.generations else 0.0


def parse_health(parsed_scores: pd.DataFrame, truncated_flags: list[bool]) -> ParseHealth:
    """Unparsed judge answers (only done ones count: missing and stale answers are not judged
    here) and truncated generations."""
    if "state" in parsed_scores.columns:
        answered = parsed_scores[parsed_scores["state"] == "done"]
    else:
        missing = parsed_scores["error"].astype("string").str.startswith("no evaluation response")
        answered = parsed_scores[~missing.fillna(False).astype(bool)]
    return ParseHealth(
        judged=len(answered),
        unparsed=int(answered["score"].isna().sum()),
        generations=len(truncated_flags),
        truncated=sum(bool(flag) for flag in truncated_flags),
    )
