import pytest

from daydreaming_dagster.experiment.file_names import file_stem_to_key, key_to_file_stem

KEYS = [
    "combo_001_02_problem_solving_deepseek/deepseek-r1:free",
    "combo_001_02_problem_solving_deepseek/deepseek-r1:free_daydreaming_loop_rubric_google/gemini-2.5-flash",
    'odd key with spaces %2F and \\ back|slash*?<>"',
    "ünïcode/模型:1",
]


@pytest.mark.parametrize("key", KEYS)
def test_round_trip_and_flat(key):
    stem = key_to_file_stem(key)
    assert file_stem_to_key(stem) == key
    for bad in '/\\:*?"<>| ':
        assert bad not in stem


def test_readable_for_seed_key():
    stem = key_to_file_stem(KEYS[0])
    assert stem == "combo_001_02_problem_solving_deepseek%2Fdeepseek-r1%3Afree"


def test_distinct_keys_give_distinct_names():
    keys = ["a/b", "a%2Fb", "a_b", "a:b"]
    assert len({key_to_file_stem(k) for k in keys}) == len(keys)


def test_empty_key_rejected():
    with pytest.raises(ValueError):
        key_to_file_stem("")
