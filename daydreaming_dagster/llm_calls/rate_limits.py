"""What a rate-limit refusal says: which limit, how many requests it allows, and when it resets.

OpenRouter names the limit in ``error.message`` (``free-models-per-min``,
``free-models-per-day``, ``free-models-per-day-high-balance``, ...) and repeats its
``X-RateLimit-Limit``/``-Remaining``/``-Reset`` headers (reset in epoch milliseconds) under
``error.metadata.headers``. Other providers send ``Retry-After``, ``retry-after-ms`` or
``x-ratelimit-*`` as HTTP headers. Reading them tells a pause of a minute from a quota that is
gone for the day, which decides between waiting and stopping.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# A reset further away than this is a quota for the day, not a pause.
DAILY_RESET_AFTER_S = 3600.0
_DURATION = re.compile(r"(?P<n>\d+(?:\.\d+)?)(?P<unit>ms|h|m|s)")


class LimitScope(StrEnum):
    MINUTE = "minute"  # pause until the reset, then go on
    DAY = "day"  # gone until the reset: stop calling every model under it
    UNKNOWN = "unknown"  # no name and no reset: back off and send fewer at once


@dataclass(frozen=True)
class RateLimit:
    """One rate-limit refusal, as far as the provider told us."""

    scope: LimitScope
    name: str | None = None  # e.g. "free-models-per-day"
    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # epoch seconds
    retry_after_s: float | None = None
    free_models: bool = False  # a limit shared by every ":free" model

    def wait_s(self, now: float | None = None) -> float | None:
        """Seconds until the limit lets requests through again, when known."""
        current = time.time() if now is None else now
        waits = [w for w in (self.retry_after_s,) if w is not None]
        if self.reset_at is not None:
            waits.append(max(0.0, self.reset_at - current))
        return max(waits) if waits else None


def _lower(headers: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items() if v is not None}


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None and text.strip() else None
    except ValueError:
        return None


def parse_duration(text: str) -> float | None:
    """``1s``, ``6m0s``, ``250ms``, ``1h2m`` (OpenAI-style reset durations) in seconds."""
    parts = list(_DURATION.finditer(text.strip()))
    if not parts or "".join(p.group(0) for p in parts) != text.strip():
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(p.group("n")) * scale[p.group("unit")] for p in parts)


def parse_reset(value: str | None, now: float | None = None) -> float | None:
    """A reset moment in epoch seconds from epoch milliseconds, epoch seconds, seconds from
    now, a duration (``6m0s``) or an HTTP date."""
    if value is None or not str(value).strip():
        return None
    current = time.time() if now is None else now
    text = str(value).strip()
    number = _number(text)
    if number is not None:
        if number > 1e11:  # epoch milliseconds
            return number / 1000.0
        if number > 1e9:  # epoch seconds
            return number
        return current + max(0.0, number)
    duration = parse_duration(text)
    if duration is not None:
        return current + duration
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return when.timestamp() if when is not None else None


def parse_retry_after(headers: Mapping[str, Any] | None, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    lowered = _lower(headers)
    millis = _number(lowered.get("retry-after-ms"))
    if millis is not None:
        return max(0.0, millis / 1000.0)
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    reset = parse_reset(value, now)
    current = time.time() if now is None else now
    return None if reset is None else max(0.0, reset - current)


def _error_object(body: Any) -> Mapping[str, Any]:
    """The ``error`` object of an error body (the openai SDK may have unwrapped it already)."""
    if isinstance(body, Mapping):
        inner = body.get("error")
        return inner if isinstance(inner, Mapping) else body
    return {}


def _limit_name(message: str) -> str | None:
    match = re.search(r"\b([a-z0-9]+(?:-[a-z0-9]+)*-per-(?:min(?:ute)?|day)[a-z0-9-]*)", message)
    return match.group(1) if match else None


def parse_rate_limit(
    body: Any, headers: Mapping[str, Any] | None = None, now: float | None = None
) -> RateLimit:
    """Everything a rate-limit refusal says, from its body and its HTTP headers."""
    current = time.time() if now is None else now
    error = _error_object(body)
    message = str(error.get("message") or "")
    metadata = error.get("metadata") if isinstance(error.get("metadata"), Mapping) else {}
    inner_headers = metadata.get("headers") if isinstance(metadata.get("headers"), Mapping) else {}
    lowered = {**_lower(headers), **_lower(inner_headers)}
    name = _limit_name(message.lower())
    limit = _number(lowered.get("x-ratelimit-limit") or lowered.get("x-ratelimit-limit-requests"))
    remaining = _number(
        lowered.get("x-ratelimit-remaining") or lowered.get("x-ratelimit-remaining-requests")
    )
    reset_at = parse_reset(
        lowered.get("x-ratelimit-reset") or lowered.get("x-ratelimit-reset-requests"), current
    )
    retry_after = parse_retry_after(lowered, current)
    if name and "per-day" in name:
        scope = LimitScope.DAY
    elif name and "per-min" in name:
        scope = LimitScope.MINUTE
    elif re.search(r"\b(daily|per day|quota)\b", message.lower()):
        scope = LimitScope.DAY
    elif reset_at is not None and reset_at - current > DAILY_RESET_AFTER_S and remaining == 0:
        scope = LimitScope.DAY
    elif reset_at is not None or retry_after is not None:
        scope = LimitScope.MINUTE
    else:
        scope = LimitScope.UNKNOWN
    return RateLimit(
        scope=scope,
        name=name,
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset_at=reset_at,
        retry_after_s=retry_after,
        free_models=bool(name and name.startswith("free-models")) or "free model" in message,
    )


def is_rate_limit_body(body: Any) -> bool:
    """Whether a 200 body (or an errored choice) carries a rate-limit error."""
    error = _error_object(body) if isinstance(body, Mapping) and "error" in body else {}
    code = error.get("code")
    text = str(error.get("message") or "").lower()
    return str(code) == "429" or "rate limit" in text or "rate-limit" in text
