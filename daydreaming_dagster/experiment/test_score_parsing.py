import pytest

from daydreaming_dagster.experiment.score_parsing import parse_score

REASONING = "The response discusses several ideas.\nIt is coherent.\n"


@pytest.mark.parametrize(
    "ending,expected",
    [
        ("SCORE: 7", 7.0),
        ("SCORE: 0", 0.0),
        ("SCORE: 10", 10.0),
        ("SCORE: 7.5", 7.5),
        ("SCORE: 7,5", 7.5),
        ("Score: 6", 6.0),
        ("score:8", 8.0),
        ("**SCORE: 9**", 9.0),
        ("**SCORE:** 9", 9.0),
        ("**Score**: **4.5**", 4.5),
        ("## Final Score: 7/10", 7.0),
        ("Final score: 7 / 10", 7.0),
        ("Total Score: 3 out of 10", 3.0),
        ("Overall score = 5", 5.0),
        ("SCORE: [8]", 8.0),
        ("SCORE: 8.", 8.0),
        ("SCORE: 6 (a solid answer)", 6.0),
        ("Therefore my final score is 6.", 6.0),
        ("> SCORE: 2", 2.0),
        ("- **Final Score:** 8/10", 8.0),
    ],
)
def test_accepted_formats(ending, expected):
    result = parse_score(REASONING + ending)
    assert result.error is None, result.error
    assert result.score == expected


def test_sub_scores_are_not_the_score():
    answer = (
        "Novelty: 1/1\nCritic: 2/2\nFeedback score: 0/2\nTotal: 3\n" "Some explanation.\nSCORE: 3"
    )
    assert parse_score(answer).score == 3.0


def test_sub_scores_alone_give_no_score():
    answer = "Novelty: 1/1\nCritic: 2/2\nFeedback score: 0/2\nRelevance score: 7\n"
    result = parse_score(answer)
    assert result.score is None
    assert "no 'SCORE" in result.error


def test_last_labelled_score_wins():
    answer = "SCORE: 4\nOn reflection I revise this.\nFinal Score: 6"
    assert parse_score(answer).score == 6.0


def test_restated_instruction_then_real_score():
    answer = "You asked me to end with SCORE: <number>.\nReasoning...\nSCORE: 5"
    assert parse_score(answer).score == 5.0


def test_think_block_ignored():
    answer = "<think>\nmaybe SCORE: 9\n</think>\nThe answer is weak.\nSCORE: 2"
    assert parse_score(answer).score == 2.0


@pytest.mark.parametrize(
    "ending,fragment",
    [
        ("SCORE: high", "not a number"),
        ("SCORE: N/A", "not a number"),
        ("SCORE: <number>", "not a number"),
        ("SCORE: 11", "outside the 0-10 scale"),
        ("SCORE: -1", "outside the 0-10 scale"),
        ("SCORE: 4/5", "not on the 0-10 scale"),
        ("SCORE: 85/100", "not on the 0-10 scale"),
        ("SCORE: 7-8", "range"),
        ("SCORE:", "not a number"),
    ],
)
def test_doubtful_scores_become_errors(ending, fragment):
    result = parse_score(REASONING + ending)
    assert result.score is None
    assert fragment in result.error


@pytest.mark.parametrize("answer", ["", "   \n", None])
def test_empty_answer(answer):
    result = parse_score(answer)
    assert result.score is None and "empty" in result.error


def test_score_before_a_long_breakdown_counts():
    answer = "SCORE: 7\n" + "\n".join(f"line {i}" for i in range(20))
    assert parse_score(answer).score == 7.0


def test_score_line_is_reported():
    assert parse_score("x\n**SCORE: 9**").score_line == "**SCORE: 9**"
