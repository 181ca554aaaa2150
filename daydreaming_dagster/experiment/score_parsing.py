"""Extract a judge's overall 0-10 score from its free-text answer.

A wrong parse silently corrupts the results, so the reader errs towards an error, never a guess:

- reasoning (``<think>...</think>``, text before a lone ``</think>``, an unterminated
  ``<think>``) is dropped first;
- an overall-score label opening a line ("SCORE:", "Final score", "Total score", "Overall
  score", "Final rating", with or without a colon or markdown) is looked for in the whole
  answer, its value on the same line or, after a label standing alone, on the next line; a
  sentence such as "my final score is 6" counts only when no line opens with a label;
- per-criterion lines ("Novelty: 1/1", an indented "- Score: 0.5" under a criterion heading)
  never count (see ``score_labels``);
- a sum counts by its total and a chain by its last figure, so when the judge gives both an
  unrounded and a rounded figure the *rounded* one is taken: ``SCORE: 6.5 (rounded: 7)`` and
  ``20/3 ≈ 6.67 → 7`` give 7 (see ``score_values``);
- of several overall scores the last one decides when it agrees with the others, is the last
  line of the answer, or follows words saying the judge revised or rounded its score;
  otherwise the disagreement is an error. Scores are never averaged.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

from .score_labels import (
    Label,
    is_list_item,
    is_per_criterion,
    is_plain_figure,
    line_label,
    mid_sentence_label_end,
)
from .score_values import SCORE_MAX, SCORE_MIN, Reading, clean, read_value, starts_with_number

__all__ = ["SCORE_MAX", "SCORE_MIN", "ParsedScore", "parse_score", "visible_answer"]

_TAG = r"(?:think|thinking|reasoning)"
_CLOSED_THINK = re.compile(rf"<{_TAG}>.*?</{_TAG}>", re.IGNORECASE | re.DOTALL)
_CLOSE_THINK = re.compile(rf"</{_TAG}>", re.IGNORECASE)
_OPEN_THINK = re.compile(rf"<{_TAG}>", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{")
# Words showing that a later overall score replaces an earlier, different one.
_REVISED = re.compile(
    r"\b(?:round\w*|revis\w*|reconsider\w*|reflection|second\s+thought|recalculat\w*"
    r"|re-?evaluat\w*|re-?assess\w*|recount\w*|wait|actually|mistake|corrected\s+(?:score|total))\b",
    re.IGNORECASE,
)
NO_SCORE = "no 'SCORE: <0-10>' line found in the answer"


@dataclass(frozen=True)
class ParsedScore:
    """A score in 0..10, or None with a short reason in ``error``; ``score_line`` is the line
    (or label and value lines) it was read from."""

    score: float | None
    error: str | None
    score_line: str | None = None


@dataclass(frozen=True)
class _Candidate:
    reading: Reading
    line: str
    end: int  # index of the last line the candidate was read from


def visible_answer(answer: str) -> str:
    """The answer without its reasoning: closed think blocks, everything before a stray closing
    tag (the opening one was part of the prompt), and an unterminated block to the end."""
    text = _CLOSED_THINK.sub("", answer)
    closings = list(_CLOSE_THINK.finditer(text))
    if closings:
        text = text[closings[-1].end() :]
    opening = _OPEN_THINK.search(text)
    return text[: opening.start()] if opening else text


def parse_score(answer: str | None) -> ParsedScore:
    """The judge's overall 0-10 score, or an error saying why there is none."""
    if answer is None or not answer.strip():
        return ParsedScore(None, "evaluation answer is empty")
    # Dedented, so that an answer indented as a whole does not look like nested bullets.
    visible = textwrap.dedent(visible_answer(answer))
    lines = [line.rstrip() for line in visible.splitlines() if line.strip()]
    if not lines:
        return ParsedScore(None, "the answer holds only reasoning (a <think> block), no score")
    labels = {index: label for index, line in enumerate(lines) if (label := line_label(line))}
    bare_count = sum(label.bare for label in labels.values())
    overall, per_criterion, headings = [], [], []
    for index, label in labels.items():
        if is_per_criterion(lines, index, label, bare_count):
            per_criterion.append(lines[index].strip())
            continue
        candidate = _labelled(lines, index, label)
        if candidate is None:
            headings.append(lines[index].strip())
        else:
            overall.append(candidate)
    if overall:
        return _decide(overall, lines)
    sentences = _from_sentences(lines, labels)
    if sentences:
        return _decide(sentences, lines)
    if per_criterion:
        return ParsedScore(
            None, f"only per-criterion score lines ({per_criterion[-1][:60]!r}), no overall score"
        )
    if headings:
        return ParsedScore(None, f"score heading {headings[-1][:60]!r} is not followed by a number")
    return ParsedScore(None, NO_SCORE)


def _labelled(lines: list[str], index: int, label: Label) -> _Candidate | None:
    """The value a line-opening label gives, from its own line or, after a bare heading, from
    the next line; None when the label heads prose instead of a figure."""
    line = lines[index].strip()
    reading = read_value(label.after)
    value_text = label.after
    if reading.empty:
        following = lines[index + 1] if index + 1 < len(lines) else None
        if following is None:
            if label.soft or not label.separated:
                return None
            nothing = Reading(error="score label is followed by nothing, not a number")
            return _Candidate(nothing, line, index)
        if not starts_with_number(following) or is_list_item(following):
            return None
        if line_label(following) is not None:
            return None
        reading, value_text = read_value(following), following
        line, index = f"{line} {following.strip()}", index + 1
    if label.soft and not (reading.value is not None and is_plain_figure(clean(value_text))):
        return None
    return _Candidate(reading, line, index)


def _decide(candidates: list[_Candidate], lines: list[str]) -> ParsedScore:
    """The last candidate, unless an earlier one gives another figure and nothing says the
    judge revised or rounded it; then the answer is ambiguous and becomes an error."""
    chosen = candidates[-1]
    result = ParsedScore(chosen.reading.value, chosen.reading.error, chosen.line)
    if chosen.reading.value is None or chosen.end == len(lines) - 1:
        return result
    for earlier in candidates[:-1]:
        if earlier.reading.value in (None, chosen.reading.value):
            continue
        if not _REVISED.search("\n".join(lines[earlier.end : chosen.end + 1])):
            return ParsedScore(
                None,
                f"overall scores disagree: {earlier.line[:40]!r} and {chosen.line[:40]!r}",
                chosen.line,
            )
    return result


def _from_sentences(lines: list[str], labels: dict[int, Label]) -> list[_Candidate]:
    """Clean scores stated mid-sentence ("my final score is 6"), or a ``\\boxed{}`` figure on
    the last line, for answers without any line-opening label."""
    found = []
    for index, line in enumerate(lines):
        if index in labels:
            continue
        end = mid_sentence_label_end(line)
        if end is None and index == len(lines) - 1 and (boxed := _BOXED.search(line)):
            end = boxed.start()
        if end is None:
            continue
        reading = read_value(line[end:])
        if reading.value is not None:
            found.append(_Candidate(reading, line.strip(), index))
    return found
