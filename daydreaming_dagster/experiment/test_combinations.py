import pytest

from daydreaming_dagster.experiment.combinations import combo_id_for, make_combinations

SIX = ["a", "b", "c", "d", "e", "f"]


def test_six_choose_four_gives_fifteen_numbered_combinations():
    combos = make_combinations(SIX, 4)
    assert len(combos) == 15
    assert [c.combo_id for c in combos[:2]] == ["combo_001", "combo_002"]
    assert combos[0].concept_ids == ("a", "b", "c", "d")
    assert combos[-1].combo_id == "combo_015"
    assert combos[-1].concept_ids == ("c", "d", "e", "f")


def test_order_is_deterministic_and_follows_input_order():
    assert make_combinations(SIX, 2) == make_combinations(list(SIX), 2)
    assert make_combinations(["x", "y", "z"], 2)[0].concept_ids == ("x", "y")


def test_seed_selection_three_choose_two():
    combos = make_combinations(["dearth", "dmn", "creativity"], 2)
    assert [c.concept_ids for c in combos] == [
        ("dearth", "dmn"),
        ("dearth", "creativity"),
        ("dmn", "creativity"),
    ]


def test_ids_widen_for_large_counts():
    assert combo_id_for(7, 15) == "combo_007"
    assert combo_id_for(7, 1200) == "combo_0007"


@pytest.mark.parametrize("k", [0, 7])
def test_invalid_k_says_what_to_do(k):
    with pytest.raises(ValueError, match="k_max"):
        make_combinations(SIX, k)


def test_duplicate_ids_rejected():
    with pytest.raises(ValueError, match="unique"):
        make_combinations(["a", "a", "b"], 2)
