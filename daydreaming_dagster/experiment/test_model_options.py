import pytest

from daydreaming_dagster.experiment.call_identity import CallIdentity
from daydreaming_dagster.experiment.model_tables import options_text, request_options


def test_reasoning_and_provider_settings_become_request_options():
    row = {"model": "m", "reasoning_effort": "High", "provider_order": "deepinfra | together",
           "allow_fallbacks": "false"}  # fmt: skip
    assert request_options(row) == {
        "reasoning": {"effort": "high"},
        "provider": {"order": ["deepinfra", "together"], "allow_fallbacks": False},
    }
    assert request_options({"model": "m", "reasoning_max_tokens": 2000.0}) == {
        "reasoning": {"max_tokens": 2000}
    }
    assert request_options({"model": "m", "reasoning_effort": float("nan")}) == {}
    assert options_text({}) == ""


@pytest.mark.parametrize(
    "row, words",
    [
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
        ({"reasoning_effort": "low", "reasoning_max_tokens": 10}, "not both"),
        ({"reasoning_max_tokens": 0.5}, "whole number"),
        ({"allow_fallbacks": "maybe"}, "allow_fallbacks"),
    ],
)
def test_bad_settings_are_refused_with_the_model_named(row, words):
    with pytest.raises(ValueError, match=words):
        request_options({"model": "x/model", **row}, "models.csv")


def test_options_are_part_of_a_calls_identity_only_when_there_are_some():
    plain = CallIdentity.of("http://x/v1", "m", "abc", 0.7, 100)
    assert plain.key == CallIdentity.of("http://x/v1", "m", "abc", 0.7, 100, 1, "").key
    thinking = CallIdentity.of("http://x/v1", "m", "abc", 0.7, 100, 1, '{"reasoning":{}}')
    assert thinking.key != plain.key
    assert "request options" in thinking.differences(plain)[0]
