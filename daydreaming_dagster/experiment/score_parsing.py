"""Extract a judge's overall score from its free-text answer.

Judges are asked to end with ``SCORE: <0-10>``, but they also write sub-scores ("Novelty: 1/1"),
markdown ("**Final Score:** 7/10") and restate instructions. A wrong parse silently corrupts the
results, so the rule is narrow: take the *last* line, among the final lines of the answer, that
carries an overall-score label; anything doubtful becomes an error, never a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCORE_MIN = 0.0
SCORE_MAX = 10.0
FINAL_LINES = 10  # how many non-empty lines, counted from the end, may hold the score

_DECORATION = r"[\s*_#>`~\-\[\]()]*"
# Bare "score" only counts at the start of a line; qualified labels may appear mid-sentence.
_LINE_START_LABEL = re.compile(
    rf"^{_DECORATION}(?:(?:final|total|overall)\s+)?score{_DECORATION}\s*[:=]", re.IGNORECASE
)
_QUALIFIED_LABEL = re.compile(
    rf"\b(?:final|total|overall)\s+score{_DECORATION}\s*(?:[:=]|\bis\b|\bof\b)", re.IGNORECASE
)
_NUMBER = r"[-+]?\d+(?:[.,]\d+)?"
_VALUE = re.compile(
    rf"^[\s*_`\[(\\{{]*(?P<value>{_NUMBER})(?!\d|\.\d)"
    rf"(?:\s*(?:/|out\s+of)\s*(?P<denominator>{_NUMBER}))?",
    re.IGNORECASE,
)
_RANGE = re.compile(rf"^[\s*_`\[(]*{_NUMBER}\s*(?:-|–|to)\s*{_NUMBER}", re.IGNORECASE)
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class ParsedScore:
    score: float | None
    error: str | None
    score_line: str | None = None


def _label_end(line: str) -> int | None:
    """Index just after the overall-score label in ``line``, or None if it has none."""
    match = _LINE_START_LABEL.search(line)
    if match:
        return match.end()
    matches = list(_QUALIFIED_LABEL.finditer(line))
    return matches[-1].end() if matches else None


def _value_from(text_after_label: str) -> tuple[float | None, str | None]:
    if _RANGE.match(text_after_label):
        return None, f"score is a range ({text_after_label.strip()[:40]!r}), not one number"
    match = _VALUE.match(text_after_label)
    if not match:
        shown = text_after_label.strip()[:40] or "nothing"
        return None, f"score label is followed by {shown!r}, not a number"
    value = float(match.group("value").replace(",", "."))
    denominator = match.group("denominator")
    if denominator is not None and float(denominator.replace(",", ".")) != SCORE_MAX:
        return None, f"score {match.group(0).strip()!r} is not on the 0-10 scale"
    if not SCORE_MIN <= value <= SCORE_MAX:
        return None, f"score {value:g} is outside the 0-10 scale"
    return value, None


def parse_score(answer: str | None) -> ParsedScore:
    """The judge's overall 0-10 score, or an error saying why there is none."""
    if answer is None or not answer.strip():
        return ParsedScore(None, "evaluation answer is empty")
    visible = _THINK_BLOCK.sub("", answer)
    lines = [line for line in visible.splitlines() if line.strip()]
    final_lines = lines[-FINAL_LINES:]
    for line in reversed(final_lines):
        end = _label_end(line)
        if end is None:
            continue
        value, error = _value_from(line[end:])
        return ParsedScore(value, error, line.strip())
    earlier = any(_label_end(line) is not None for line in lines[:-FINAL_LINES])
    if earlier:
        return ParsedScore(
            None, f"a score label appears only before the last {FINAL_LINES} lines of the answer"
        )
    return ParsedScore(None, "no 'SCORE: <0-10>' line found in the answer")
