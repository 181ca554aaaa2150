"""Regression corpus: full judge answers in the shapes real judges write, each file named
``<expected score or 'error'>__<what it shows>.txt``."""

from pathlib import Path

import pytest

from daydreaming_dagster.experiment.score_parsing import parse_score

CASES = sorted((Path(__file__).parent / "score_cases").glob("*.txt"))


def _expected(path: Path) -> float | None:
    label = path.name.split("__", 1)[0]
    return None if label == "error" else float(label)


def test_the_corpus_is_large_and_mixed():
    expected = [_expected(path) for path in CASES]
    assert len(CASES) >= 40
    assert expected.count(None) >= 10 and len(set(expected)) >= 10


@pytest.mark.parametrize("path", CASES, ids=[path.stem for path in CASES])
def test_corpus_answer(path):
    result = parse_score(path.read_text(encoding="utf-8"))
    expected = _expected(path)
    if expected is None:
        assert result.score is None, f"read {result.score} from {result.score_line!r}"
        assert result.error
    else:
        assert result.error is None, result.error
        assert result.score == expected, result.score_line
