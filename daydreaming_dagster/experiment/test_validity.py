from pathlib import Path

import pandas as pd

from .validity import find_leaks, late_models, load_leak_phrases

RAW = Path(__file__).resolve().parents[2] / "data" / "01_raw"


def test_phrases_are_found_whatever_the_case_and_spacing():
    leaks = find_leaks(
        {"concept x (paragraph)": "It runs a Daydreaming\n  Loop at night.", "clean": "Fine."},
        ["daydreaming loop", "generator and critic"],
    )
    assert [(leak.source, leak.phrase) for leak in leaks] == [
        ("concept x (paragraph)", "daydreaming loop")
    ]
    assert "daydreaming loop" in leaks[0].describe()


def test_the_project_phrase_list_loads_without_comments():
    phrases = load_leak_phrases(RAW / "leak_phrases.txt")
    assert "daydreaming loop" in phrases
    assert not any(p.startswith("#") for p in phrases)


def test_models_on_or_after_the_cutoff_or_undated_are_named():
    models = pd.DataFrame(
        {
            "model": ["old", "edge", "late", "undated"],
            "release_date": ["2025-05-31", "2025-06-01", "2025-07-01", ""],
        }
    )
    problems = late_models(models)
    assert len(problems) == 3
    assert problems[0].startswith("edge was released 2025-06-01")
    assert problems[1].startswith("late was released 2025-07-01")
    assert problems[2].startswith("undated has no valid release_date")


def test_the_shipped_generators_predate_the_cutoff():
    models = pd.read_csv(RAW / "generation_models.csv", dtype=str, keep_default_na=False)
    active = models[models["active"].str.lower() == "true"]
    assert late_models(active) == []


def test_parse_health_counts_unparsed_answers_but_not_missing_ones():
    from .validity import parse_health

    parsed = pd.DataFrame(
        {
            "score": [7.0, None, None, 5.0],
            "error": [None, "no 'SCORE:' line", "no evaluation response yet (...)", None],
        }
    )
    health = parse_health(parsed, [True, False, False, False])
    assert (health.judged, health.unparsed) == (3, 1)
    assert health.unparsed_share == 1 / 3 and health.truncated_share == 0.25
