"""Find the lines of a judge's answer that carry an overall-score label, and tell them apart from
per-criterion lines.

Judges are asked to end with ``SCORE: <0-10>``, yet they also write "### **Final Score**",
"Final score 7/10", "my final score is 6" and per-criterion bullets such as "   - **Score**: 0.5"
under each criterion heading. Only the first kinds name the overall score; a per-criterion line
read as the overall score would be a wrong number, so a bare "Score" label counts only where the
layout shows it is not one of a series of per-criterion scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DECORATION = r"[\s*_#>`~\-\[\]()•+]*"
_QUALIFIER = r"(?:final|total|overall)"
_NOUN = r"(?:score|rating|grade|mark)"
# Nouns that also introduce prose ("Final assessment: the response..."): a label only when a
# plain figure follows.
_SOFT_NOUN = r"(?:points|total|answer|verdict|evaluation|assessment|result|judge?ment)"
# "(out of 10)", "(0-10)", "(revised)"; not "(Element 6)", which names a criterion.
_SCALE_NOTE = r"(?:\s*[(\[](?:[^()\[\]\n\d]{0,25}|[^()\[\]\n]{0,20}\b10\b[^()\[\]\n]{0,12})[)\]])?"
_LINE_LABEL = re.compile(
    rf"^{_DECORATION}(?:(?P<qualified>{_QUALIFIER}\s+(?:(?P<soft>{_SOFT_NOUN})|{_NOUN}))"
    rf"|(?P<bare>score))\b{_SCALE_NOTE}[\s*_`]*"
    r"(?P<separator>:|=|\bis\b|\bof\b|\s[-–—]\s|[–—])?",
    re.IGNORECASE,
)
_MID_LABEL = re.compile(
    rf"\b{_QUALIFIER}\s+{_NOUN}\b{_SCALE_NOTE}[\s*_`]*"
    r"(?::|=|\bis\b|\bof\b|\bcomes\s+to\b|\bequals\b)",
    re.IGNORECASE,
)
# Words showing that a score mentioned mid-sentence is not the judge's own final one.
_TENTATIVE = re.compile(
    r"\b(?:would|could|might|should|if|not|no|rather|instead|than|maybe|perhaps|wait|hmm"
    r"|initial(?:ly)?|original(?:ly)?|tentative(?:ly)?|preliminary|ignore|claims?|claimed)\b"
    r"|n't",
    re.IGNORECASE,
)
_QUOTE = re.compile(r"[\"“”‘]|(?<!\w)'")
_PLAIN_FIGURE = re.compile(
    r"^[\s\[({]*\d+(?:[.,]\d+)?(?:\s*(?:/|out\s+of)\s*10(?:\.0+)?)?[\s\])}.!]*$", re.IGNORECASE
)
_LIST_ITEM = re.compile(r"^\s*\d+[.)]\s+[^\d\s]")
_BULLET = re.compile(r"^(?:[-*+•]|\d+[.)])\s")
_HEADING = re.compile(r"^(?:#{1,6}\s|\*\*|__|\d+[.)]\s)|^[^\s-].{0,78}:\s*$")
_CRITERION_HEADING = re.compile(
    r"\b(?:element|criterion|criteria|aspect|dimension|part)\s*\d|^[\W_]*\d+[.):]|\bup\s+to\s+\d"
    r"|\(\s*\d+(?:\.\d+)?\s*(?:points?|pts?)\s*\)|\d\s*/\s*\d",
    re.IGNORECASE,
)
_OVERALL_HEADING = re.compile(
    r"\b(?:final|overall|total|summary|conclusion|verdict|score|result|tally|sum)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Label:
    """An overall-score label found at the start of a line, and what follows it there."""

    after: str
    bare: bool
    capitals: bool
    soft: bool
    separated: bool


def line_label(line: str) -> Label | None:
    """The overall-score label that opens ``line`` ("SCORE:", "### Final Score"), if any."""
    match = _LINE_LABEL.match(line)
    if not match:
        return None
    after = line[match.end() :]
    rest = re.sub(r"[\s*_`#]", "", after)
    separator = (match.group("separator") or "").strip().lower()
    starts_with_figure = bool(re.match(r"[\[({\\]*(?:boxed\{)?[-+]?\d", rest))
    if not separator and rest and not (match.group("qualified") and starts_with_figure):
        return None  # "Final score reflects...", "Score breakdown"
    if separator in ("is", "of") and not starts_with_figure:
        return None
    bare = match.group("bare")
    return Label(
        after=after,
        bare=bare is not None,
        capitals=bare == "SCORE",
        soft=match.group("soft") is not None,
        separated=bool(separator),
    )


def mid_sentence_label_end(line: str) -> int | None:
    """Where the value starts after a label like "my final score is", when the sentence is
    not hedged or quoting someone else's score."""
    matches = list(_MID_LABEL.finditer(line))
    if not matches or _TENTATIVE.search(line) or _QUOTE.search(line[: matches[-1].end()]):
        return None
    return matches[-1].end()


def is_plain_figure(text: str) -> bool:
    """Whether ``text`` is just a figure ("6", "7/10"), as a prose-like label needs."""
    return bool(_PLAIN_FIGURE.match(text))


def is_list_item(text: str) -> bool:
    """A numbered item ("1. Puzzle: ..."), whose number is not a score."""
    return bool(_LIST_ITEM.match(text))


def _labels_a_value(line: str) -> bool:
    """A line such as "**Score:** 1", which is a score, not a heading ("### Final Score")."""
    label = line_label(line)
    return label is not None and bool(re.sub(r"[\s*_`#]", "", label.after))


def _section_kind(lines: list[str], index: int) -> str:
    """'criterion', 'overall' or 'neutral' for the heading above ``lines[index]``; 'none'."""
    for line in reversed(lines[:index]):
        if line[:1].isspace() or not _HEADING.match(line) or _labels_a_value(line):
            continue
        if _CRITERION_HEADING.search(line):
            return "criterion"
        return "overall" if _OVERALL_HEADING.search(line) else "neutral"
    return "none"


def is_per_criterion(lines: list[str], index: int, label: Label, bare_count: int) -> bool:
    """Whether a bare "Score" label on ``lines[index]`` (a non-empty line) is a per-criterion
    score: a bullet or indented line under a criterion heading, or one of a series."""
    if not label.bare:
        return False
    line = lines[index]
    kind = _section_kind(lines, index)
    if kind == "overall":
        return False
    nested = line[:1].isspace()
    repeated = bare_count > 1
    if nested or _BULLET.match(line):
        if label.capitals and not nested and index == len(lines) - 1:
            return False  # the requested final line, written as a bullet
        if kind == "criterion" or (nested and kind == "neutral") or repeated:
            return True
        return index < len(lines) - 2  # a lone bullet counts only where a final score stands
    return not label.capitals and repeated and kind in ("criterion", "neutral")
