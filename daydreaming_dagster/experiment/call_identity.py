"""What a model call is made from, as hashes: the identity that decides reuse and staleness.

Two calls with the same identity ask the same question of the same model with the same
settings at the same endpoint, so one answer serves both (the response cache), and a stored
result whose identity differs from the one its task would make now is stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


def sha256_text(text: str) -> str:
    """Hex sha256 of UTF-8 text: how prompts and answers are fingerprinted everywhere."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CallIdentity:
    """Everything that determines a call's answer, as sent."""

    base_url: str
    model: str
    prompt_sha256: str
    temperature: float
    max_tokens: int
    replicate: str = "1"
    options: str = ""  # canonical JSON of what else is sent (reasoning, provider pinning)

    @classmethod
    def of(
        cls,
        base_url: str,
        model: str,
        prompt_sha256: str,
        temperature: float,
        max_tokens: int,
        replicate: int | str = 1,
        options: str = "",
    ) -> CallIdentity:
        return cls(
            base_url.rstrip("/"),
            str(model),
            str(prompt_sha256),
            float(temperature),
            int(max_tokens),
            str(replicate),
            str(options or ""),
        )

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CallIdentity | None:
        """The identity a stored call record describes; None for an incomplete record."""
        try:
            return cls.of(
                record["base_url"],
                record["requested_model"],
                record["prompt_sha256"],
                record["temperature"],
                record["max_tokens"],
                record.get("replicate", 1),
                record.get("request_options") or "",
            )
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def key(self) -> str:
        """A stable hash of the identity. Replicates ask the same question on purpose, so any
        replicate label other than 1 is part of it (replicate 1 keeps the key it always had)."""
        fields: dict[str, Any] = {
            "base_url": self.base_url,
            "model": self.model,
            "prompt_sha256": self.prompt_sha256,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if self.replicate != "1":
            fields["replicate"] = self.replicate
        if self.options:  # absent when nothing else is sent, so older keys stay the same
            fields["options"] = self.options
        return sha256_text(json.dumps(fields, sort_keys=True))

    def differences(self, other: CallIdentity) -> list[str]:
        """What changed from ``other`` (the stored call) to this one, in words."""
        changes = []
        if self.prompt_sha256 != other.prompt_sha256:
            changes.append("the prompt changed")
        if self.model != other.model:
            changes.append(f"model {other.model} -> {self.model}")
        if self.temperature != other.temperature:
            changes.append(f"temperature {other.temperature:g} -> {self.temperature:g}")
        if self.max_tokens != other.max_tokens:
            changes.append(f"max_tokens {other.max_tokens} -> {self.max_tokens}")
        if self.base_url != other.base_url:
            old, new = endpoint_host(other.base_url), endpoint_host(self.base_url)
            changes.append(f"endpoint {old} -> {new}")
        if self.replicate != other.replicate:
            changes.append(f"replicate {other.replicate} -> {self.replicate}")
        if self.options != other.options:
            changes.append(f"request options {other.options or '{}'} -> {self.options or '{}'}")
        return changes


def call_key(
    base_url: str,
    model: str,
    prompt_sha256: str,
    temperature: float,
    max_tokens: int,
    replicate: int | str = 1,
    options: str = "",
) -> str:
    """The key of a call (see ``CallIdentity.key``)."""
    return CallIdentity.of(
        base_url, model, prompt_sha256, temperature, max_tokens, replicate, options
    ).key


def call_key_of_record(record: Mapping[str, Any]) -> str | None:
    """The key of the call a stored call record describes, or None for an incomplete record."""
    identity = CallIdentity.from_record(record)
    return identity.key if identity is not None else None


def endpoint_host(base_url: str) -> str:
    """``host[:port]`` of an endpoint URL: what a summary shows of where answers came from."""
    parts = urlsplit(base_url)
    return parts.netloc or base_url
