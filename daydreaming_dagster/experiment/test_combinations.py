import pytest

from daydreaming_dagster.experiment.combinations import (
    ConceptCombination,
    assign_ids,
    check_registry,
    combo_id_for,
    concept_sets,
    make_combinations,
)

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


def test_ids_keep_the_seed_format_and_never_change_width():
    assert combo_id_for(7) == "combo_007"
    assert combo_id_for(1000) == "combo_1000"


def test_a_set_keeps_its_id_across_selections_k_and_concept_order():
    registry: list[ConceptCombination] = []
    example, new = assign_ids(concept_sets(["a", "b", "c"], 2), registry)
    registry += new
    assert [(c.combo_id, c.concept_ids) for c in example] == [
        ("combo_001", ("a", "b")),
        ("combo_002", ("a", "c")),
        ("combo_003", ("b", "c")),
    ]
    # A larger k: new sets, new ids; the pairs keep theirs.
    full, new = assign_ids(concept_sets(SIX, 4), registry)
    registry += new
    assert [c.combo_id for c in full] == [f"combo_{n:03d}" for n in range(4, 19)]
    # The concept file reordered and extended: every known set keeps its id and its order.
    reordered = ["g", "c", "b", "a", "f", "e", "d"]
    pairs, new = assign_ids(concept_sets(reordered, 2), registry)
    by_set = {c.concept_set: c for c in pairs}
    assert by_set[frozenset("ab")] == ConceptCombination("combo_001", ("a", "b"))
    assert by_set[frozenset("bc")] == ConceptCombination("combo_003", ("b", "c"))
    assert len(new) == 21 - 3 and new[0].combo_id == "combo_019"
    # Ids are never reused: every id names exactly one set.
    registry += new
    check_registry(registry)
    assert len({c.combo_id for c in registry}) == len({c.concept_set for c in registry})


def test_a_damaged_registry_is_refused():
    one = ConceptCombination("combo_001", ("a", "b"))
    with pytest.raises(ValueError, match="twice"):
        check_registry([one, ConceptCombination("combo_001", ("a", "c"))])
    with pytest.raises(ValueError, match="same concepts"):
        check_registry([one, ConceptCombination("combo_002", ("b", "a"))])
    with pytest.raises(ValueError, match="combo_NNN"):
        check_registry([ConceptCombination("combo_1a", ("a", "b"))])


@pytest.mark.parametrize("k", [0, 7])
def test_invalid_k_says_what_to_do(k):
    with pytest.raises(ValueError, match="k_max"):
        make_combinations(SIX, k)


def test_duplicate_ids_rejected():
    with pytest.raises(ValueError, match="unique"):
        make_combinations(["a", "a", "b"], 2)
