"""What a response's materialization shows in the Dagster UI besides its call figures: the
answer itself (a generation's essay; a judge's reasoning and the score read from it).

The UI shows text values in place and markdown values behind a "[Show Markdown]" link, so the
essay comes as both: ``answer`` (text, readable on the asset page) and ``answer_markdown``
(formatted). Cut at ``PREVIEW_CHARS`` so that thousands of events stay small in the instance's
event log; the cut says where the whole answer is. Every event of an asset has the same keys.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from dagster import MetadataValue

from ..experiment.score_parsing import parse_score

PREVIEW_CHARS = 2000


def preview(text: str, path: Path, limit: int = PREVIEW_CHARS) -> str:
    """``text`` as markdown, cut at the last line break before ``limit`` characters (or at
    ``limit``), with a line saying where the full answer is when it was cut."""
    if not text.strip():
        return f"_(empty answer; file: `{path}`)_"
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", limit // 2, limit)
    shown = text[: cut if cut > 0 else limit].rstrip()
    return (
        f"{shown}\n\n---\n_Cut at {len(shown):,} of {len(text):,} characters; the full answer "
        f"is in `{path}`._"
    )


def generation_answer_metadata(text: str, path: Path) -> dict[str, Any]:
    """The essay, as text and as markdown, on each generation_response event."""
    shown = preview(text, path)
    return {
        "answer": MetadataValue.text(shown),
        "answer_markdown": MetadataValue.md(shown),
        "answer_chars": len(text),
    }


def evaluation_answer_metadata(text: str, path: Path) -> dict[str, Any]:
    """The judge's reasoning and the score the parser reads from it, or why there is none.
    ``score`` is NaN when there is none, so the key keeps one type for the UI's charts."""
    parsed = parse_score(text)
    return {
        "score": MetadataValue.float(math.nan if parsed.score is None else parsed.score),
        "score_error": parsed.error or "",
        "score_line": parsed.score_line or "",
        "judge_answer": MetadataValue.text(preview(text, path)),
        "answer_chars": len(text),
    }
