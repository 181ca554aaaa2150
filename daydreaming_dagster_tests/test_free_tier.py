"""OpenRouter's free tier, simulated: 20 requests a minute and 60 a day across the ':free'
models, refused requests counting against the day. The pair run needs 90 ':free' calls (30
generations, 60 judgements by the free judge) plus 60 by the paid judge, so the day runs out
part-way; the "minute" is shortened to 2 s so the test need not wait for real ones.
"""

from __future__ import annotations

from collections import Counter

import pytest

from daydreaming_dagster.mock_llm_server import MockLLMServer
from daydreaming_dagster.mock_server import FreeTier

from .conftest import BIN, SEED_CONCEPTS, make_project
from .test_cli import run

WINDOW_S = 2.0
PAIR_RUN = ["run", "--k-max", "2", "--concepts", ",".join(SEED_CONCEPTS)]


@pytest.fixture
def free_tier_server():
    tier = FreeTier(per_minute=20, per_day=60, window_s=WINDOW_S)
    with MockLLMServer(free_tier=tier) as server:
        yield server


def test_a_daily_quota_stops_the_free_models_and_the_next_day_finishes(
    tmp_path, free_tier_server, monkeypatch
):
    monkeypatch.setenv("DAYDREAMING_RATE_LIMIT_WINDOW_S", str(WINDOW_S))
    project = make_project(tmp_path / "project")
    tier = free_tier_server.free_tier
    daydreaming = str(BIN / "daydreaming")

    first = run(project, free_tier_server, daydreaming, *PAIR_RUN)
    output = first.stdout + first.stderr
    assert first.returncode == 4, output
    assert "Traceback" not in output
    assert "daily quota" in output and "resets at" in output and " UTC (in " in output
    assert "calls are left to make" in output and "uv run daydreaming run" in output
    assert len(output.splitlines()) < 60
    # At least 80% of the day's quota became answers; almost nothing was sent once it was gone.
    assert tier.answered >= 48, vars(tier)
    assert tier.sent_after_quota_gone <= 6, vars(tier)
    # The paid judge kept going: it judged every generation that was answered.
    paid = [r for r in free_tier_server.requests if not r.model.endswith(":free")]
    generated = list((project / "data" / "03_generation" / "generation_responses").glob("*.txt"))
    assert 0 < len(generated) and len(paid) == 2 * len(generated)

    tier.new_day()
    second = run(project, free_tier_server, daydreaming, *PAIR_RUN)
    assert second.returncode == 0, second.stdout + second.stderr
    answered = [(r.model, r.prompt) for r in free_tier_server.answered_requests()]
    assert [call for call, n in Counter(answered).items() if n > 1] == []
    assert len(answered) == 30 + 120  # every task answered exactly once over the two days
