from .rate_limits import LimitScope, parse_duration, parse_rate_limit, parse_reset

NOW = 1_800_000_000.0


def openrouter_429(name: str, limit: str, reset_ms: int, advice: str = "") -> dict:
    headers = {
        "X-RateLimit-Limit": limit,
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": str(reset_ms),
    }
    message = f"Rate limit exceeded: {name}. {advice}".strip()
    return {"error": {"code": 429, "message": message, "metadata": {"headers": headers}}}


def test_openrouter_names_its_free_tier_limits():
    minute = parse_rate_limit(
        openrouter_429("free-models-per-min", "20", int(NOW * 1000) + 30_000), now=NOW
    )
    assert minute.scope is LimitScope.MINUTE and minute.free_models
    assert (minute.name, minute.limit, minute.remaining) == ("free-models-per-min", 20, 0)
    assert minute.wait_s(NOW) == 30.0
    day = parse_rate_limit(
        openrouter_429("free-models-per-day-high-balance", "1000", int(NOW * 1000) + 3_600_000 * 9),
        now=NOW,
    )
    assert day.scope is LimitScope.DAY and day.free_models and day.limit == 1000
    assert day.reset_at == NOW + 9 * 3600


def test_the_sdk_may_hand_over_the_error_object_alone():
    inner = openrouter_429("free-models-per-day", "50", int(NOW * 1000) + 1000)["error"]
    assert parse_rate_limit(inner, now=NOW).scope is LimitScope.DAY


def test_http_headers_and_other_shapes():
    by_header = parse_rate_limit({}, {"Retry-After": "12"}, now=NOW)
    assert by_header.scope is LimitScope.MINUTE and by_header.wait_s(NOW) == 12.0
    by_ms = parse_rate_limit({}, {"retry-after-ms": "1500"}, now=NOW)
    assert by_ms.retry_after_s == 1.5
    openai_style = parse_rate_limit(
        {"error": {"message": "Rate limit reached for requests"}},
        {"x-ratelimit-limit-requests": "500", "x-ratelimit-reset-requests": "6m0s"},
        now=NOW,
    )
    assert openai_style.limit == 500 and openai_style.reset_at == NOW + 360
    quota = parse_rate_limit({"error": {"message": "You exceeded your daily quota"}}, now=NOW)
    assert quota.scope is LimitScope.DAY and not quota.free_models
    unknown = parse_rate_limit({"error": {"message": "slow down"}}, now=NOW)
    assert unknown.scope is LimitScope.UNKNOWN and unknown.wait_s(NOW) is None


def test_reset_formats():
    assert parse_reset(str(int(NOW * 1000)), now=NOW) == NOW
    assert parse_reset(str(int(NOW)), now=NOW) == NOW
    assert parse_reset("20", now=NOW) == NOW + 20
    assert parse_duration("1h2m3.5s") == 3723.5 and parse_duration("250ms") == 0.25
    assert parse_duration("soon") is None and parse_reset("soon", now=NOW) is None
