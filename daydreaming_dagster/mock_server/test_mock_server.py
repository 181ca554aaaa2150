"""Tests for the mock OpenAI-compatible server, exercised through the real ``openai`` client.

Why the real client: the pipeline's LLM client relies on how the SDK parses responses and maps
failures to exceptions, so these tests double as documentation of that SDK behaviour.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from daydreaming_dagster.mock_server import Fault, MockLLMServer, judge_score

MODEL = "mock/generator-small"
JUDGE_MODEL = "mock/judge"
GEN_PROMPT = "Combine these concepts into one novel idea: memory, idle time, critique."
JUDGE_PROMPT = "Rate the idea below from 0 to 10. End with a line 'SCORE: <number>'.\n\nIdea: X"
SCORE_LINE = re.compile(r"^SCORE: (\d+(?:\.\d)?)$")


@pytest.fixture
def server() -> Iterator[MockLLMServer]:
    with MockLLMServer(latency_s=0.0) as srv:
        yield srv


@pytest.fixture
def client(server: MockLLMServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0, timeout=5)


def _chat(client: openai.OpenAI, prompt: str = GEN_PROMPT, model: str = MODEL, **kwargs):
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], **kwargs
    )


def _http(url: str, data: bytes | None = None) -> tuple[int, dict]:
    """Raw request (bypassing the SDK) returning status and parsed JSON body."""
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_context_manager_binds_ephemeral_port_and_stops() -> None:
    with MockLLMServer() as srv:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", srv.base_url)
        assert srv.port > 0
        url = srv.base_url
    with pytest.raises(RuntimeError):
        _ = srv.base_url
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/models", timeout=1)


def test_start_stop_methods() -> None:
    srv = MockLLMServer().start()
    try:
        assert _http(srv.base_url + "/models")[0] == 200
    finally:
        srv.stop()
        srv.stop()  # idempotent


def test_generation_answer_shape_and_recording(
    server: MockLLMServer, client: openai.OpenAI
) -> None:
    completion = _chat(client)
    assert completion.object == "chat.completion"
    assert completion.id
    assert completion.model == MODEL
    choice = completion.choices[0]
    assert choice.index == 0
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    content = choice.message.content
    assert content is not None
    assert MODEL in content
    assert 150 <= len(content.split()) <= 300
    assert content.count("\n\n") >= 2  # multi-paragraph
    assert "SCORE:" not in content

    # Deterministic: same request, same text (including the short prompt hash).
    assert _chat(client).choices[0].message.content == content
    assert _chat(client, prompt=GEN_PROMPT + "!").choices[0].message.content != content

    assert server.request_count == 3
    recorded = server.requests[0]
    assert recorded.model == MODEL
    assert recorded.messages == [{"role": "user", "content": GEN_PROMPT}]
    assert recorded.body["model"] == MODEL
    assert recorded.headers["authorization"] == "Bearer test-key"
    assert recorded.path == "/v1/chat/completions"


def test_judge_answer_ends_with_deterministic_score(client: openai.OpenAI) -> None:
    first = _chat(client, prompt=JUDGE_PROMPT, model=JUDGE_MODEL).choices[0].message.content
    second = _chat(client, prompt=JUDGE_PROMPT, model=JUDGE_MODEL).choices[0].message.content
    assert first == second
    lines = first.strip().splitlines()
    assert len(lines) >= 3  # some reasoning before the score
    match = SCORE_LINE.match(lines[-1])
    assert match, lines[-1]
    score = float(match.group(1))
    assert 0.0 <= score <= 10.0
    assert score == judge_score(JUDGE_MODEL, JUDGE_PROMPT)


def test_judge_detection_uses_last_user_message(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=JUDGE_MODEL,
        messages=[
            {"role": "system", "content": "You are a strict judge."},
            {"role": "user", "content": JUDGE_PROMPT},
        ],
    )
    assert SCORE_LINE.match(completion.choices[0].message.content.splitlines()[-1])


def test_sampling_parameters_recorded(server: MockLLMServer, client: openai.OpenAI) -> None:
    _chat(client, temperature=0.7, max_tokens=2000)
    _chat(client, model=JUDGE_MODEL, prompt=JUDGE_PROMPT)
    (gen,) = server.requests_for(MODEL)
    assert gen.temperature == 0.7
    assert gen.max_tokens == 2000
    (judge,) = server.requests_for(JUDGE_MODEL)
    assert judge.temperature is None
    assert judge.max_tokens is None


def test_max_tokens_truncates_and_sets_length(client: openai.OpenAI) -> None:
    completion = _chat(client, max_tokens=10)
    assert completion.choices[0].finish_reason == "length"
    assert 0 < len(completion.choices[0].message.content) <= 40


def test_usage_cost_readable_via_model_extra(client: openai.OpenAI) -> None:
    completion = _chat(client)
    usage = completion.usage
    assert usage is not None
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.prompt_tokens == max(1, len(GEN_PROMPT) // 4)
    expected = (0.30 * usage.prompt_tokens + 2.50 * usage.completion_tokens) / 1e6
    # openai 3.x models allow extra fields: `cost` is not declared on CompletionUsage but is
    # kept in `model_extra` and is also reachable as an attribute.
    assert usage.model_extra is not None
    assert usage.model_extra["cost"] == pytest.approx(expected)
    assert getattr(usage, "cost", None) == pytest.approx(expected)
    assert isinstance(usage.model_extra["cost"], float)


def test_free_models_cost_nothing(client: openai.OpenAI) -> None:
    completion = _chat(client, model="deepseek/deepseek-r1:free")
    assert completion.usage.model_extra["cost"] == 0.0


def test_status_429_exposes_retry_after(server: MockLLMServer, client: openai.OpenAI) -> None:
    server.script([Fault(kind="status", status=429, retry_after=7)])
    with pytest.raises(openai.RateLimitError) as info:
        _chat(client)
    assert info.value.status_code == 429
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.body == {"message": "Rate limit exceeded", "code": 429}
    # One-shot: the next request succeeds.
    assert _chat(client).choices[0].message.content
    assert server.pending_faults == 0


def test_status_500(server: MockLLMServer, client: openai.OpenAI) -> None:
    server.script([Fault(kind="status", status=500, message="boom")])
    with pytest.raises(openai.InternalServerError) as info:
        _chat(client)
    assert info.value.status_code == 500
    assert "boom" in str(info.value)


def test_html_body_with_status_200_is_returned_as_plain_str(
    server: MockLLMServer, client: openai.OpenAI
) -> None:
    # SDK behaviour that matters to the caller: for a 200 response whose Content-Type is not
    # JSON, openai 3.x does NOT raise (unless the client was built with
    # _strict_response_validation=True). `chat.completions.create` returns the raw response
    # text as a `str` instead of a ChatCompletion, so callers must check
    # `isinstance(result, str)` / `hasattr(result, "choices")` and treat it as an error.
    server.script([Fault(kind="html")])
    result = _chat(client)
    assert isinstance(result, str)
    assert result.lstrip().lower().startswith("<!doctype html>")
    assert not hasattr(result, "choices")


def test_drop_raises_api_connection_error(server: MockLLMServer, client: openai.OpenAI) -> None:
    # A closed socket with no response surfaces as openai.APIConnectionError ("Connection
    # error."), caused by the HTTP client's RemoteProtocolError.
    server.script([Fault(kind="drop")])
    with pytest.raises(openai.APIConnectionError) as info:
        _chat(client)
    assert not isinstance(info.value, openai.APIStatusError)
    assert server.request_count == 1  # the request was received and recorded
    assert _chat(client).choices[0].finish_reason == "stop"


def test_empty_and_null_content(server: MockLLMServer, client: openai.OpenAI) -> None:
    server.script([Fault(kind="empty"), Fault(kind="null_content")])
    empty = _chat(client)
    assert empty.choices[0].message.content == ""
    assert empty.choices[0].finish_reason == "stop"
    null = _chat(client)
    assert null.choices[0].message.content is None


def test_slow_length_and_text_faults(server: MockLLMServer, client: openai.OpenAI) -> None:
    server.script(
        [
            Fault(kind="slow", seconds=0.2),
            Fault(kind="length"),
            Fault(kind="text", content="Looks fine.\nSCORE: 9.5"),
        ]
    )
    start = time.perf_counter()
    slow = _chat(client)
    assert time.perf_counter() - start >= 0.2
    assert slow.choices[0].finish_reason == "stop"
    assert MODEL in slow.choices[0].message.content

    truncated = _chat(client)
    assert truncated.choices[0].finish_reason == "length"

    text = _chat(client, prompt=JUDGE_PROMPT, model=JUDGE_MODEL)
    assert text.choices[0].message.content == "Looks fine.\nSCORE: 9.5"


def test_fault_match_only_applies_to_matching_requests(
    server: MockLLMServer, client: openai.OpenAI
) -> None:
    server.script([Fault(kind="status", status=503, match="judge")])
    assert _chat(client).choices[0].message.content  # non-matching model, fault stays queued
    assert server.pending_faults == 1
    with pytest.raises(openai.InternalServerError):
        _chat(client, model=JUDGE_MODEL, prompt=JUDGE_PROMPT)
    assert server.pending_faults == 0

    server.script([Fault(kind="empty", match="idle time")])  # matches on prompt text
    assert _chat(client, prompt="unrelated").choices[0].message.content
    assert _chat(client).choices[0].message.content == ""


def test_invalid_fault_kind_rejected() -> None:
    with pytest.raises(ValueError):
        Fault(kind="explode")  # type: ignore[arg-type]


def test_fixed_response_and_fail_always(server: MockLLMServer, client: openai.OpenAI) -> None:
    server.set_fixed_response("Idea: X", "Decent.\nSCORE: 3.0")
    for _ in range(2):
        answer = _chat(client, prompt=JUDGE_PROMPT, model=JUDGE_MODEL)
        assert answer.choices[0].message.content == "Decent.\nSCORE: 3.0"
    assert "SCORE" not in _chat(client).choices[0].message.content

    server.fail_always("no-such-model", 404)
    server.fail_always("bad-key-model", 401)
    for _ in range(2):
        with pytest.raises(openai.NotFoundError):
            _chat(client, model="vendor/no-such-model")
    with pytest.raises(openai.AuthenticationError):
        _chat(client, model="bad-key-model")
    assert _chat(client).choices[0].finish_reason == "stop"


def test_models_endpoint(client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert len(ids) >= 3
    assert MODEL in ids


def test_paths_without_v1_prefix(server: MockLLMServer) -> None:
    root = server.base_url.removesuffix("/v1")
    no_prefix = openai.OpenAI(base_url=root, api_key="test-key", max_retries=0, timeout=5)
    assert _chat(no_prefix).choices[0].message.content
    assert server.requests[-1].path == "/chat/completions"
    assert _http(root + "/models")[0] == 200


def test_unknown_path_and_malformed_json(server: MockLLMServer) -> None:
    status, body = _http(server.base_url + "/nope")
    assert status == 404
    assert body["error"]["code"] == 404
    status, body = _http(server.base_url + "/embeddings", data=b"{}")
    assert status == 404
    status, body = _http(server.base_url + "/chat/completions", data=b"{not json")
    assert status == 400
    assert body["error"]["code"] == 400
    status, body = _http(server.base_url + "/chat/completions", data=b'{"model": "m"}')
    assert status == 400
    assert server.request_count == 0  # unparseable requests are not recorded


def test_latency_requests_overlap() -> None:
    with MockLLMServer(latency_s=0.3) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="test-key", max_retries=0)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda i: _chat(client, prompt=f"idea {i}"), range(8)))
        elapsed = time.perf_counter() - start
    assert all(r.choices[0].message.content for r in results)
    assert srv.request_count == 8
    assert 0.3 <= elapsed < 1.5


def test_run_mock_server_prints_url_and_stops_on_ctrl_c() -> None:
    repo_root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [sys.executable, "-m", "daydreaming_dagster.mock_llm_server", "--port", "0"],
        cwd=repo_root,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"OPENROUTER_BASE_URL=(\S+) OPENROUTER_API_KEY=anything", line)
        assert match, line
        client = openai.OpenAI(base_url=match.group(1), api_key="x", max_retries=0, timeout=5)
        assert _chat(client).choices[0].message.content
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_outcomes_record_what_each_request_got(
    server: MockLLMServer, client: openai.OpenAI
) -> None:
    server.script(
        [
            Fault(kind="status", status=429, retry_after=1),
            Fault(kind="html"),
            Fault(kind="drop"),
            Fault(kind="empty"),
            Fault(kind="null_content"),
            Fault(kind="slow", seconds=0.05),
            Fault(kind="text", content="Fine.\nSCORE: 5"),
        ]
    )
    for _ in range(8):
        try:
            _chat(client)
        except openai.APIError:
            pass
    server.fail_always("judge", 503)
    with pytest.raises(openai.InternalServerError):
        _chat(client, model=JUDGE_MODEL)

    outcomes = [outcome for _, outcome in server.outcomes]
    assert outcomes == [
        "http_429",
        "html",
        "dropped",
        "empty_answer",
        "empty_answer",
        "slow_answer",
        "answer",  # scripted text is a usable answer
        "answer",
        "http_503",
    ]
    assert server.answered_requests() == [server.requests[6], server.requests[7]]
    assert server.answered_requests(JUDGE_MODEL) == []
    for exchange in server.exchanges:
        assert exchange.finished_at is not None
        assert exchange.finished_at >= exchange.request.received_at > 0
    server.reset()
    assert server.outcomes == [] and server.exchanges == []


def test_outcome_is_pending_while_answering_and_disconnected_when_client_left(
    server: MockLLMServer,
) -> None:
    server.latency_s = 0.3
    impatient = openai.OpenAI(
        base_url=server.base_url, api_key="test-key", max_retries=0, timeout=0.1
    )
    with pytest.raises(openai.APITimeoutError):
        _chat(impatient)
    ((_, outcome),) = server.outcomes
    assert outcome == "pending"
    deadline = time.monotonic() + 5
    while server.outcomes[0][1] == "pending" and time.monotonic() < deadline:
        time.sleep(0.02)
    # The client hung up before the reply: whether the write fails depends on the TCP stack,
    # so either outcome is acceptable, but it is never counted as a usable answer.
    assert server.outcomes[0][1] in ("disconnected", "answer")
    assert server.in_flight() == 0


def test_fault_model_targets_one_exact_model(server: MockLLMServer, client: openai.OpenAI) -> None:
    server.script([Fault(kind="status", status=500, model=JUDGE_MODEL, match="idle time")])
    assert _chat(client).choices[0].message.content  # same prompt, other model
    assert _chat(client, model=JUDGE_MODEL, prompt="unrelated").choices[0].message.content
    assert server.pending_faults == 1
    with pytest.raises(openai.InternalServerError):
        _chat(client, model=JUDGE_MODEL)
    assert server.pending_faults == 0
    assert not Fault(kind="drop", model="mock/judge").applies_to("mock/judge-2", "x")


def test_status_fault_can_be_delayed(server: MockLLMServer, client: openai.OpenAI) -> None:
    server.script([Fault(kind="status", status=404, seconds=0.2)])
    start = time.perf_counter()
    with pytest.raises(openai.NotFoundError):
        _chat(client)
    assert time.perf_counter() - start >= 0.2


def test_in_flight_counts_per_model_and_peak() -> None:
    with MockLLMServer(latency_s=0.3) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="test-key", max_retries=0)
        jobs = [(MODEL, f"idea {i}") for i in range(3)] + [(JUDGE_MODEL, JUDGE_PROMPT)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(_chat, client, prompt, model) for model, prompt in jobs]
            deadline = time.monotonic() + 5
            while srv.in_flight() < 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert srv.in_flight() == 4
            assert srv.in_flight(MODEL) == 3 and srv.in_flight(JUDGE_MODEL) == 1
            for future in futures:
                future.result()
        assert srv.in_flight() == 0 and srv.in_flight(MODEL) == 0
        assert srv.peak_in_flight() == 4
        assert srv.peak_in_flight(MODEL) == 3
        assert srv.peak_in_flight(JUDGE_MODEL) == 1
        assert srv.peak_in_flight("never/used") == 0

        _chat(client)  # sequential requests never overlap
        srv.reset()
        assert srv.peak_in_flight() == 0 and srv.peak_in_flight(MODEL) == 0
        _chat(client)
        _chat(client)
        assert srv.peak_in_flight() == 1 and srv.peak_in_flight(MODEL) == 1


def test_many_simultaneous_connections_are_accepted_at_once() -> None:
    # With socketserver's default listen backlog (5) the kernel drops some of 40 simultaneous
    # connection attempts and the clients retry about a second later.
    body = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}).encode()
    with MockLLMServer(latency_s=0.2) as srv:
        url = srv.base_url + "/chat/completions"
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(lambda _: _http(url, data=body)[0], range(40)))
        elapsed = time.perf_counter() - start
        assert statuses == [200] * 40
        assert srv.peak_in_flight() > 5
    assert elapsed < 0.9


def test_the_mock_server_command_on_a_taken_port_says_so_without_a_traceback(
    server: MockLLMServer,
) -> None:
    daydreaming = Path(sys.executable).parent / "daydreaming"
    result = subprocess.run(
        [str(daydreaming), "mock-server", "--port", str(server.port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "already in use" in result.stderr and "--port N" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    bad = subprocess.run(
        [str(daydreaming), "mock-server", "--free-tier", "twenty"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "PER_MINUTE,PER_DAY" in bad.stderr
    assert "Traceback" not in bad.stderr
