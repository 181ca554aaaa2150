from daydreaming_dagster.experiment.summary_context import (
    StageCounts,
    SummaryContext,
    is_local_host,
)


def context(host: str, generation: StageCounts) -> SummaryContext:
    return SummaryContext(
        endpoint_host=host,
        generation_models=["g/one"],
        evaluation_models=["j/one", "j/two"],
        concepts=["a", "b", "c"],
        k_values=[2],
        description_levels=["paragraph"],
        generation_templates=["t1"],
        evaluation_templates=["rubric"],
        generation=generation,
        evaluation=StageCounts(done=12),
        inputs_fingerprint="abc",
        made_at="2026-12-02T05:00:00+00:00",
    )


def test_a_local_endpoint_is_said_out_loud():
    assert is_local_host("127.0.0.1:8765") and is_local_host("localhost:11434")
    assert is_local_host("[::1]:8080") and is_local_host("192.168.1.20:8000")
    assert not is_local_host("openrouter.ai") and not is_local_host("api.openai.com:443")
    text = context("127.0.0.1:8765", StageCounts(done=6)).markdown()
    assert "| endpoint | 127.0.0.1:8765 |" in text
    assert "local endpoint (127.0.0.1:8765), not a hosted provider" in text
    assert "local endpoint" not in context("openrouter.ai", StageCounts(done=6)).markdown()


def test_counts_and_open_work_are_stated():
    text = context("openrouter.ai", StageCounts(done=4, stale=1, to_do=1, set_aside=3)).markdown()
    assert "| generations | 4 done, 1 stale, 1 to do (3 set aside) |" in text
    assert "Not every task is done" in text


def test_json_round_trip():
    made = context("openrouter.ai", StageCounts(done=6, set_aside=2))
    assert SummaryContext.from_json(made.to_json()) == made
