from daydreaming_dagster.experiment.call_identity import CallIdentity, sha256_text
from daydreaming_dagster.experiment.task_state import (
    NOTHING_STORED,
    Expected,
    Stored,
    TaskState,
    decide,
)

ANSWER = "an answer"
CALL = CallIdentity.of("http://127.0.0.1:8765/v1", "m", sha256_text("prompt"), 0.7, 100)


def record(call: CallIdentity = CALL, **extra) -> dict:
    return {
        "base_url": call.base_url,
        "requested_model": call.model,
        "prompt_sha256": call.prompt_sha256,
        "temperature": call.temperature,
        "max_tokens": call.max_tokens,
        "replicate": call.replicate,
        "answer_sha256": sha256_text(ANSWER),
        **extra,
    }


def stored(rec: dict | None, text: str | None = ANSWER) -> Stored:
    return Stored(rec, sha256_text(text) if text is not None else None)


def test_done_only_when_the_stored_call_is_the_call_made_now():
    assert decide(Expected(CALL), stored(record())).state is TaskState.DONE


def test_nothing_or_half_stored_is_to_do():
    assert decide(Expected(CALL), NOTHING_STORED).state is TaskState.TODO
    half = decide(Expected(CALL), stored(record(), text=None))
    assert half.state is TaskState.TODO and "half" in half.reason


def test_every_changed_input_makes_it_stale_and_says_which():
    cases = {
        "the prompt changed": CallIdentity.of(CALL.base_url, "m", sha256_text("new"), 0.7, 100),
        "temperature 0.7 -> 0.3": CallIdentity.of(CALL.base_url, "m", CALL.prompt_sha256, 0.3, 100),
        "max_tokens 100 -> 50": CallIdentity.of(CALL.base_url, "m", CALL.prompt_sha256, 0.7, 50),
        "endpoint 127.0.0.1:8765 -> openrouter.ai": CallIdentity.of(
            "https://openrouter.ai/api/v1", "m", CALL.prompt_sha256, 0.7, 100
        ),
    }
    for reason, now in cases.items():
        decision = decide(Expected(now), stored(record()))
        assert decision.state is TaskState.STALE and reason in decision.reason


def test_an_answer_file_that_is_not_its_records_answer_is_stale():
    # e.g. a crash between writing the new record and the new text
    decision = decide(Expected(CALL), stored(record(), text="the old answer"))
    assert decision.state is TaskState.STALE and "answer file" in decision.reason
    legacy = {k: v for k, v in record().items() if k != "answer_sha256"}
    assert decide(Expected(CALL), stored(legacy)).state is TaskState.STALE


def test_an_evaluation_of_another_generation_answer_is_stale():
    judged = record(generation_answer_sha256=sha256_text("old generation"))
    now = Expected(CALL, {"generation_answer_sha256": sha256_text("new generation")})
    decision = decide(now, stored(judged))
    assert decision.state is TaskState.STALE and "generation answer" in decision.reason


def test_not_ready_inputs_make_an_existing_result_stale_and_a_missing_one_to_do():
    why = "generation not ready: g1 (the prompt changed)"
    assert decide(None, stored(record()), why) == decide(None, stored(record()), why)
    assert decide(None, stored(record()), why).state is TaskState.STALE
    assert decide(None, stored(record()), why).reason == why
    assert decide(None, NOTHING_STORED, why).state is TaskState.TODO


def test_replicates_are_part_of_the_identity():
    other = CallIdentity.of(CALL.base_url, "m", CALL.prompt_sha256, 0.7, 100, replicate=2)
    assert other.key != CALL.key
    assert CallIdentity.of(CALL.base_url, "m", CALL.prompt_sha256, 0.7, 100, 1).key == CALL.key
