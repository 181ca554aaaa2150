"""Read the figure that follows an overall-score label ("7/10", "3 + 3 = 6", "6.67 -> 7").

A judge's figure can be a plain number, a fraction of 10, a sum ending in its total, or a chain
of conversions ("13/20 = 6.5/10", "6.67 (rounded: 7)"). The reader takes the figure the judge
arrived at *last* in such a sum or chain, so a rounded figure wins over the unrounded one. Every
other shape (a list, a range, a sum without a total, another scale) is an error, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SCORE_MIN = 0.0
SCORE_MAX = 10.0

_NUMBER = r"[-+−]?\d+(?:[.,]\d+)?"
_TERM = re.compile(
    rf"(?P<value>{_NUMBER})(?!\d)"
    rf"(?:\s*(?:points?|pts?)?\s*\(?\s*(?:/|out\s+of\b|of\b|max(?:imum)?\b\.?:?)\s*"
    rf"(?P<denominator>{_NUMBER})\)?)?",
    re.IGNORECASE,
)
_ANNOTATION = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\])")
_OPERATOR = re.compile(r"\s*(?:\)\s*[/÷×*]|\+|×|÷|\*|−|-(?=\s*\d))\s*")
_EQUALS = re.compile(r"\s*=\s*")
# Markers after which the judge restates the same score in its final form (rounded, normalised).
_MARK = (
    r"(?:=|≈|~|→|->|=>|⇒|,?\s*(?:i\.e\.|that\s+is|which\s+is|equivalent\s+to"
    r"|(?:rounded|rounding|rounds|normali[sz]ed|scaled|converted)"
    r"(?:\s+(?:up|down))?(?:\s+(?:to|as|gives|is))?))"
)
_CHAIN = re.compile(
    rf"\s*(?:{_MARK}\s*:?,?\s*)+(?:(?:final|overall|total)?\s*score\s*[:=]?\s*)?",
    re.IGNORECASE,
)
# "4,5,6", "5 or 6", "4.5.6"; also "6 and a half" and "6½", which a figure alone misreads.
_LIST = re.compile(
    rf"^\s*(?:[,;]|\s(?:and|or|&)\s)\s*{_NUMBER}|^\.\d|^\s*(?:and\s+a\s+half|[½¼¾])",
    re.IGNORECASE,
)
_RANGE = re.compile(rf"^\s*(?:-|–|—|to\b)\s*{_NUMBER}", re.IGNORECASE)
_LEADING = re.compile(r"^[\s\[({:]*")
_LATEX = [
    (re.compile(r"\\(?:boxed|text|textbf|mathbf)\{([^{}]*)\}"), r"\1"),
    (re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}"), r"\1/\2"),
    (re.compile(r"\\approx"), "≈"),
    (re.compile(r"\\(?:rightarrow|to)\b"), "→"),
    (re.compile(r"\\times"), "×"),
    (re.compile(r"[*`$_]|\\[()\[\]]"), ""),
]


@dataclass(frozen=True)
class Reading:
    """What follows a label: a score, an error, or nothing at all (``empty``)."""

    value: float | None = None
    error: str | None = None
    empty: bool = False
    is_sum: bool = False


def clean(text: str) -> str:
    """The text without markdown emphasis and the LaTeX that judges wrap around numbers."""
    for pattern, replacement in _LATEX:
        text = pattern.sub(replacement, text)
    return text


def starts_with_number(text: str) -> bool:
    return bool(re.match(rf"{_NUMBER}", _LEADING.sub("", clean(text))))


def read_value(text: str) -> Reading:
    """The score that ``text`` (what follows a label) states, or why there is none."""
    body = _LEADING.sub("", clean(text)).rstrip()
    if not body:
        return Reading(empty=True)
    if not _TERM.match(body):
        shown = text.strip()[:40]
        return Reading(error=f"score label is followed by {shown!r}, not a number")
    return _read(body)


def _number(text: str) -> float:
    return float(text.replace(",", ".").replace("−", "-"))


def _read(body: str) -> Reading:
    term = _TERM.match(body)
    if not term:
        shown = body.strip()[:40]
        return Reading(error=f"score label is followed by {shown!r}, not a number")
    rest = body[term.end() :]
    operators = 0
    while True:
        annotation = _ANNOTATION.match(rest)
        if annotation and not _CHAIN.match(annotation.group(0).strip()[1:]):
            rest = rest[annotation.end() :]
            continue
        operator = _OPERATOR.match(rest)
        following = _TERM.match(rest[operator.end() :]) if operator else None
        if not following or (operator.group(0).strip() == "-" and not _EQUALS.search(rest)):
            break
        operators += 1
        rest = rest[operator.end() + following.end() :]
    if operators:
        equals = _EQUALS.match(rest)
        if not equals:
            return Reading(error=f"score {body[:40]!r} is a sum without its total", is_sum=True)
        return _read(_LEADING.sub("", rest[equals.end() :]))
    return _finish(term, rest)


def _finish(term: re.Match[str], rest: str) -> Reading:
    """Check the single figure ``term`` against what follows it, then against the 0-10 scale."""
    shown = term.group(0).strip()
    if _RANGE.match(rest):
        return Reading(error=f"score is a range ({(shown + rest)[:40].strip()!r}), not one number")
    if _LIST.match(rest):
        return Reading(
            error=f"score is a list or a fraction in words ({(shown + rest)[:40].strip()!r})"
        )
    if rest.lstrip().startswith("%"):
        return Reading(error=f"score {shown}% is a percentage, not on the 0-10 scale")
    restated = _restated(rest)
    if restated is not None:
        return restated
    value = _number(term.group("value"))
    denominator = term.group("denominator")
    if denominator is not None and _number(denominator) != SCORE_MAX:
        return Reading(error=f"score {shown!r} is not on the 0-10 scale")
    if not SCORE_MIN <= value <= SCORE_MAX:
        return Reading(error=f"score {value:g} is outside the 0-10 scale")
    return Reading(value=value)


def _restated(rest: str) -> Reading | None:
    """The figure after a rounding or conversion marker ("-> 7", "(rounded: 7)"), if any."""
    inner = rest.lstrip()
    if inner.startswith(("(", "[")):
        inner = inner[1:]
    chain = _CHAIN.match(inner)
    if not chain or not chain.group(0).strip():
        return None
    target = inner[chain.end() :]
    if not _TERM.match(target):
        return None
    reading = _read(target)
    return None if reading.is_sum else reading
