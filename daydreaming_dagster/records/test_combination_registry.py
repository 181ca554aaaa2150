import threading
from pathlib import Path

import pytest

from ..experiment.combinations import concept_sets
from .combination_registry import read_registry, register_combinations


def test_the_registry_is_append_only_and_survives_new_selections(tmp_path: Path):
    path = tmp_path / "combination_registry.csv"
    first, new = register_combinations(path, concept_sets(["a", "b", "c"], 2))
    assert (
        [c.combo_id for c in first]
        == ["combo_001", "combo_002", "combo_003"]
        == [c.combo_id for c in new]
    )
    before = path.read_text()
    again, new = register_combinations(path, concept_sets(["c", "b", "a"], 2))
    assert new == [] and again == first and path.read_text() == before
    bigger, new = register_combinations(path, concept_sets(["a", "b", "c", "d"], 3))
    assert [c.combo_id for c in bigger] == [f"combo_{n:03d}" for n in range(4, 8)]
    text = path.read_text()
    assert text.startswith(before) and text.splitlines()[0] == "combo_id,concept_ids,registered_at"
    assert read_registry(path)[0].concept_ids == ("a", "b")


def test_concurrent_registrations_agree(tmp_path: Path):
    path = tmp_path / "combination_registry.csv"
    results = []

    def register(ids: list[str]) -> None:
        results.append(register_combinations(path, concept_sets(ids, 2))[0])

    threads = [threading.Thread(target=register, args=(list("abcde"),)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r == results[0] for r in results)
    assert len(read_registry(path)) == 10


def test_a_damaged_registry_names_the_file(tmp_path: Path):
    path = tmp_path / "combination_registry.csv"
    path.write_text("combo_id,concept_ids,registered_at\ncombo_001,a|b,x\ncombo_002,b|a,x\n")
    with pytest.raises(ValueError, match="combination_registry.csv"):
        register_combinations(path, concept_sets(["a", "b"], 2))
    path.write_text("something else\n")
    with pytest.raises(ValueError, match="not a combination registry"):
        read_registry(path)


def test_the_shipped_header_only_registry_starts_at_combo_001(tmp_path: Path):
    path = tmp_path / "combination_registry.csv"
    path.write_text((Path(__file__).parents[2] / "data" / "combination_registry.csv").read_text())
    combos, _ = register_combinations(path, concept_sets(["a", "b"], 2))
    assert combos[0].combo_id == "combo_001"
    assert path.read_text().splitlines()[1].startswith("combo_001,a|b,")
