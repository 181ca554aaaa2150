"""What the UI shows of an answer: the essay, cut with the path of the whole; a judge's
reasoning with the score the parser reads, or why there is none."""

import math
from pathlib import Path

from .answer_metadata import (
    PREVIEW_CHARS,
    evaluation_answer_metadata,
    generation_answer_metadata,
    preview,
)

PATH = Path("data/03_generation/generation_responses/x.txt")


def test_a_short_answer_is_shown_whole_and_a_long_one_is_cut_at_a_line_with_its_path():
    assert preview("An essay.\n\nTwo paragraphs.", PATH) == "An essay.\n\nTwo paragraphs."
    long = "\n".join(f"line {n} " + "word " * 20 for n in range(200))
    shown = preview(long, PATH)
    kept = shown.split("\n\n---\n")[0]
    assert len(kept) <= PREVIEW_CHARS and long.startswith(kept)
    assert long[len(kept) :].lstrip(" ").startswith("\n")  # cut where a line ends
    assert f"of {len(long):,} characters" in shown and str(PATH) in shown


def test_generation_metadata_has_the_essay_as_text_and_markdown():
    metadata = generation_answer_metadata("The loop.", PATH)
    assert (
        metadata["answer"].value == "The loop." and metadata["answer_markdown"].value == "The loop."
    )
    assert metadata["answer_chars"] == 9


def test_evaluation_metadata_has_the_reasoning_and_the_parsed_score():
    scored = evaluation_answer_metadata("Reasoning first.\nSCORE: 7", PATH)
    assert scored["score"].value == 7.0 and scored["score_error"] == ""
    assert scored["judge_answer"].value.startswith("Reasoning first.")
    unscored = evaluation_answer_metadata("No figure at all.", PATH)
    assert math.isnan(unscored["score"].value) and "SCORE" in unscored["score_error"]
    assert set(scored) == set(unscored)  # the same keys on every path
