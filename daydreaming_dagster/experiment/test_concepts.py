import json

import pytest

from daydreaming_dagster.experiment.concepts import (
    Concept,
    choose_description,
    load_concepts,
    select_concepts,
)

FULL = Concept("c1", "One", {"sentence": "s", "paragraph": "p", "article": "a"})
SHORT = Concept("c2", "Two", {"sentence": "only s"})


@pytest.mark.parametrize("level,text", [("sentence", "s"), ("paragraph", "p"), ("article", "a")])
def test_picks_requested_level(level, text):
    chosen = choose_description(FULL, level)
    assert (chosen.text, chosen.level_used, chosen.fell_back) == (text, level, False)


def test_falls_back_to_shorter_level():
    chosen = choose_description(SHORT, "article")
    assert (chosen.text, chosen.level_used, chosen.fell_back) == ("only s", "sentence", True)


def test_unknown_level_is_an_error():
    with pytest.raises(ValueError, match="description_level"):
        choose_description(FULL, "book")


def test_select_keeps_file_order_and_rejects_unknown():
    assert [c.concept_id for c in select_concepts([FULL, SHORT], ["c2", "c1"])] == ["c1", "c2"]
    assert select_concepts([FULL, SHORT], None) == [FULL, SHORT]
    with pytest.raises(ValueError, match="unknown concepts"):
        select_concepts([FULL], ["nope"])


def test_load_drops_blank_levels_and_rejects_duplicates(tmp_path):
    path = tmp_path / "c.json"
    item = {"concept_id": "x", "name": "X", "descriptions": {"sentence": "s", "article": "  "}}
    path.write_text(json.dumps({"concepts": [item]}))
    (concept,) = load_concepts(path)
    assert concept.descriptions == {"sentence": "s"}
    path.write_text(json.dumps({"concepts": [item, item]}))
    with pytest.raises(ValueError, match="Duplicate"):
        load_concepts(path)
