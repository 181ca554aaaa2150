"""What the mock server answers: deterministic judge and generation texts, token counts,
prices, and the model list, all derived from a sha256 of model + prompt."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

DEFAULT_MODELS: tuple[str, ...] = (
    "mock/generator-small",
    "mock/generator-large",
    "mock/judge",
    "openai/gpt-4o-mini",
    "anthropic/claude-3.5-sonnet",
    # The project's models CSVs, so a preflight against the mock finds every active model.
    "deepseek/deepseek-r1:free",
    "google/gemma-3-27b-it:free",
    "meta-llama/llama-3.3-70b-instruct",
    "qwen/qwq-32b",
    "openai/gpt-4o-2024-11-20",
    "anthropic/claude-3.7-sonnet",
    "deepseek/deepseek-chat-v3-0324:free",
    "google/gemini-2.5-flash",
    "anthropic/claude-sonnet-4",
    "openai/gpt-4.1",
)

JUDGE_MARKER = "SCORE:"


def approx_tokens(text: str) -> int:
    """Cheap token estimate (≈4 chars per token) — good enough for usage/cost bookkeeping."""
    return max(1, len(text) // 4)


def content_text(content: Any) -> str:
    """Flatten a message ``content`` (string or list of content parts) into plain text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return ""


def prompt_text(messages: Sequence[Any]) -> str:
    """Join every message's text; this is what hashing and substring matching look at."""
    return "\n".join(content_text(m.get("content")) for m in messages if isinstance(m, dict))


def last_user_text(messages: Sequence[Any]) -> str:
    """Text of the last user message (falls back to the last message of any role)."""
    dict_messages = [m for m in messages if isinstance(m, dict)]
    for message in reversed(dict_messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return content_text(dict_messages[-1].get("content")) if dict_messages else ""


def _digest(model: str, prompt: str) -> str:
    """Stable hex digest of model + prompt: the source of all deterministic variation."""
    return hashlib.sha256(f"{model}\x00{prompt}".encode()).hexdigest()


def _pick(options: Sequence[str], digest: str, slot: int) -> str:
    """Choose an option using two hex digits of the digest at ``slot`` (deterministic)."""
    return options[int(digest[slot * 2 : slot * 2 + 2], 16) % len(options)]


def judge_score(model: str, prompt: str) -> float:
    """Deterministic score in 0.0..10.0 (one decimal) for a judge request."""
    return int(_digest(model, prompt)[:8], 16) % 101 / 10


def judge_answer(model: str, prompt: str) -> str:
    """A short reasoning block ending with ``SCORE: x`` like a real judge response."""
    digest = _digest(model, prompt)
    quality = ("limited", "partial", "reasonable", "clear", "strong")
    novelty = ("incremental", "moderately novel", "fairly original", "surprisingly original")
    mechanism = ("vague", "sketched", "plausible", "concretely specified")
    lines = [
        f"Evaluation by {model} (prompt {digest[:8]}):",
        f"- The response shows {_pick(quality, digest, 4)} integration of the given concepts.",
        f"- The central idea is {_pick(novelty, digest, 5)}.",
        f"- The proposed mechanism is {_pick(mechanism, digest, 6)}.",
        "- Weighing these points against the rubric gives the score below.",
        f"SCORE: {judge_score(model, prompt):.1f}",
    ]
    return "\n".join(lines)


def generation_answer(model: str, prompt: str) -> str:
    """A deterministic ~200-word idea proposal mentioning the model and a prompt hash."""
    digest = _digest(model, prompt)
    short = digest[:8]
    opener = _pick(
        (
            "The most promising direction",
            "One idea worth developing",
            "A concrete proposal",
            "The combination I find most interesting",
        ),
        digest,
        0,
    )
    engine = _pick(
        (
            "a background process that keeps recombining stored ideas",
            "a loop that pairs distant concepts and tests whether they fit together",
            "an explorer that samples unusual associations while the main task is idle",
            "a generator that proposes connections and a critic that filters them",
        ),
        digest,
        1,
    )
    payoff = _pick(
        (
            "occasionally surfaces insights no single prompt would produce",
            "turns idle compute into a steady trickle of candidate discoveries",
            "builds a growing library of vetted, non-obvious connections",
            "lets the system notice patterns it was never explicitly asked about",
        ),
        digest,
        2,
    )
    risk = _pick(
        ("cost", "noise from low-quality pairings", "evaluation drift", "redundant ideas"),
        digest,
        3,
    )
    paragraphs = [
        f"[mock answer from {model}, prompt hash {short}] {opener} here is to treat the listed "
        f"concepts as parts of a single mechanism rather than as separate topics. Concretely, "
        f"I would build {engine}. Each candidate connection is written down, scored, and either "
        f"discarded or kept for later reuse, so the process accumulates value over time.",
        f"The key insight is that the concepts reinforce one another: one supplies raw "
        f"variation, another supplies a way to judge that variation, and a memory keeps the "
        f"best results available as seeds for the next round. Run repeatedly, this loop "
        f"{payoff}. It also gives a natural place to inject domain knowledge, because the "
        f"critic can be tuned without touching the generator.",
        f"The main risk is {risk}, which I would address by sampling conservatively at first, "
        f"measuring how often kept ideas prove useful, and adjusting the filter threshold. A "
        f"small pilot with a fixed budget would show quickly whether the approach is worth "
        f"scaling. In short: combine generation, evaluation and memory into one continuous "
        f"cycle, and let it run. (Reference {short}, model {model}.)",
    ]
    return "\n\n".join(paragraphs)


# What the mock charges per million tokens: nothing for ":free" models, as OpenRouter does, and
# google/gemini-2.5-flash's list prices (as in data/01_raw/evaluation_models.csv) for the rest.
MOCK_USD_PER_MTOK = (0.30, 2.50)


def model_listing(model: str) -> dict[str, Any]:
    """One entry of ``GET /models``, with OpenRouter's pricing (USD per token, as strings)."""
    free = model.endswith(":free")
    prompt_price, completion_price = (0.0, 0.0) if free else MOCK_USD_PER_MTOK
    return {
        "id": model,
        "object": "model",
        "created": 0,
        "owned_by": "mock",
        "context_length": 131072,
        "pricing": {
            "prompt": f"{prompt_price / 1e6:.10f}",
            "completion": f"{completion_price / 1e6:.10f}",
        },
    }


def mock_cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    if model.endswith(":free"):
        return 0.0
    input_price, output_price = MOCK_USD_PER_MTOK
    return (prompt_tokens * input_price + completion_tokens * output_price) / 1e6
