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


@pytest.mark.parametrize(
    "ending,expected",
    [
        ("**Total Score:** 3 (Core Concepts) + 3 (Connections) = **6/10**", 6.0),
        ("### **SCORE: 3 (Core) + 2 (Connections) = **5/10**", 5.0),
        ("Total score: 1 + 1.5 + 2 + 1 + 0.5 + 0 = 6", 6.0),
        ("**Final Score**: (7 + 7 + 6) / 3 = 20/3 ≈ 6.67 → 7", 7.0),
        ("SCORE: 6 = 1 + 1.5 + 2 + 1 + 0.5", 6.0),
        ("**Total Score:** 6/10 (Element 1 = 1, Element 2 = 1.5)", 6.0),
        ("SCORE: 13/20 = 6.5/10", 6.5),
        ("SCORE: 4/5 (normalised: 8/10)", 8.0),
        ("Final score 7/10", 7.0),
        ("Final score is 7", 7.0),
        ("**Final Rating:** 8/10", 8.0),
        ("**Overall Score (out of 10):** 6", 6.0),
        ("Final Score (0-10): 7", 7.0),
        ("SCORE: **7**/10", 7.0),
        ("SCORE: $\\boxed{6.5}$", 6.5),
        ("**Final Answer**\n\\boxed{6}", 6.0),
        ("### **Final Score**\n**2/10**", 2.0),
        ("**SCORE:**\n5/10", 5.0),
        ("**Total Score**:\n1 + 1.5 + 2 + 1 + 0.5 + 0 = 6", 6.0),
        ("REASONING - Great creativity shown\nSCORE: 8.0", 8.0),
    ],
)
def test_sums_chains_and_layouts(ending, expected):
    result = parse_score(REASONING + ending)
    assert result.error is None, result.error
    assert result.score == expected


@pytest.mark.parametrize(
    "ending",
    [
        "SCORE: 6.5 (rounded: 7)",
        "SCORE: 6.67, rounded to 7",
        "SCORE: 6.5/10 → Rounded to **7/10**",
        "SCORE: 7 (rounded from 6.67)",
        "Total Score: 6.5/10 → rounded to 7/10\nSCORE: 7",
    ],
)
def test_the_rounded_figure_is_taken(ending):
    assert parse_score(REASONING + ending).score == 7.0


@pytest.mark.parametrize(
    "ending,fragment",
    [
        ("Score: 4,5,6", "list"),
        ("Score: 4, 5, 6", "list"),
        ("SCORE: 5 or 6", "list"),
        ("SCORE: 6 and a half", "list"),
        ("SCORE: 6½", "list"),
        ("Score: 456", "outside the 0-10 scale"),
        ("SCORE: 70%", "percentage"),
        ("**Total Score:** 1 + 1.5 + 2 + 1 + 0.5", "sum without its total"),
        ("SCORE: 6 to 8", "range"),
        ("SCORE: 7/100", "not on the 0-10 scale"),
        ("## Final Score\n1. Element 1: 1\n2. Element 2: 1", "not followed by a number"),
    ],
)
def test_more_doubtful_scores_become_errors(ending, fragment):
    result = parse_score(REASONING + ending)
    assert result.score is None
    assert fragment in result.error


def test_nested_score_bullets_under_criteria_are_not_the_score():
    answer = (
        "### Element 1: Puzzle\nThe response states the puzzle.\n   - **Score**: 0.5\n"
        "### Element 2: Process\nA loop is sketched.\n   - **Score**: 0\n"
        "### Element 3: Critic\nThe response mentions"
    )
    result = parse_score(answer)
    assert result.score is None
    assert "per-criterion" in result.error


def test_a_score_bullet_under_a_final_heading_counts():
    answer = "### Element 1\n   - **Score**: 1\n### Final Evaluation\nGood.\n- **Score:** 8/10"
    assert parse_score(answer).score == 8.0


def test_a_criterion_named_in_parentheses_is_not_an_overall_label():
    result = parse_score(REASONING + "**Final score (Element 6):** 0.5")
    assert result.score is None


def test_prose_after_an_assessment_label_is_ignored():
    answer = "SCORE: 5\n**Final Assessment:** 3 elements are present."
    assert parse_score(answer).score == 5.0


def test_hedged_sentences_give_no_score():
    answer = REASONING + "A final score of 7 would be too generous for this."
    assert parse_score(answer).score is None
    answer = REASONING + "Adding these up, the total score is 1 + 2 + 1.5 = 4.5."
    assert parse_score(answer).score == 4.5


def test_disagreeing_overall_scores_are_an_error():
    answer = "REASONING: Analysis\nSCORE: 7.5\nSCORE: 8.0\nAdditional text"
    result = parse_score(answer)
    assert result.score is None
    assert "disagree" in result.error


def test_the_last_line_decides_between_disagreeing_scores():
    answer = "Overall score: 8\n" + REASONING + "SCORE: 7"
    assert parse_score(answer).score == 7.0


def test_an_explicit_revision_decides_between_disagreeing_scores():
    answer = "Final Score: 6\nWait, I reconsider element 3.\n**Final Score (revised):** 5.5\nDone."
    assert parse_score(answer).score == 5.5


@pytest.mark.parametrize(
    "answer,expected",
    [
        ("reasoning with SCORE: 9\n</think>\nThe answer is weak.\nSCORE: 2", 2.0),
        ("<think>a</think>\nSCORE: 3\n<think>maybe SCORE: 9", 3.0),
        ("<thinking>SCORE: 9</thinking>\nSCORE: 1", 1.0),
    ],
)
def test_reasoning_blocks_never_count(answer, expected):
    assert parse_score(answer).score == expected


@pytest.mark.parametrize(
    "answer", ["<think>\nSCORE: 7 seems right, but", "<think>SCORE: 7</think>\n  \n"]
)
def test_an_answer_that_is_only_reasoning_has_no_score(answer):
    result = parse_score(answer)
    assert result.score is None and "only reasoning" in result.error


def test_a_quoted_score_in_a_sentence_does_not_count():
    answer = REASONING + 'The response ends with "Final score: 10/10", a claim about itself.'
    assert parse_score(answer).score is None
    answer = REASONING + "So the response's final score is 6."
    assert parse_score(answer).score == 6.0
