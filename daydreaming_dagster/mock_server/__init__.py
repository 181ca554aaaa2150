"""A small OpenAI-compatible chat-completions server for tests, benchmarks and keyless demos.

The pipeline talks to models through the ``openai`` SDK against any OpenAI-compatible endpoint
(OpenRouter in production). Pointed at this server instead, tests can assert exactly what was
sent and what each request got back, script provider failures (``Fault``), simulate OpenRouter's
free tier (``FreeTier``), and check concurrency limits; benchmarks get a controlled latency; and
users can run the whole pipeline without a key. Answers are deterministic (from a sha256 of
model + prompt). Only the standard library is used.

- ``answers``: what it answers; ``faults``: how it can misbehave; ``free_tier``: OpenRouter's
  free-tier limits; ``records``: what it keeps of each request; ``http``: routing and replies;
  ``chat``: answering one request; ``server``: start, stop, inspect, configure.
"""

from .answers import (
    DEFAULT_MODELS,
    MOCK_USD_PER_MTOK,
    generation_answer,
    judge_answer,
    judge_score,
    mock_cost_usd,
    model_listing,
)
from .faults import FAULT_KINDS, Fault, FaultKind
from .free_tier import FreeTier
from .records import (
    OUTCOME_ANSWER,
    OUTCOME_DISCONNECTED,
    OUTCOME_DROPPED,
    OUTCOME_EMPTY,
    OUTCOME_ERROR,
    OUTCOME_HTML,
    OUTCOME_PENDING,
    OUTCOME_REJECTED,
    OUTCOME_SLOW_ANSWER,
    Exchange,
    RecordedRequest,
)
from .server import MockLLMServer, run_mock_server

__all__ = [
    "DEFAULT_MODELS",
    "FAULT_KINDS",
    "MOCK_USD_PER_MTOK",
    "OUTCOME_ANSWER",
    "OUTCOME_DISCONNECTED",
    "OUTCOME_DROPPED",
    "OUTCOME_EMPTY",
    "OUTCOME_ERROR",
    "OUTCOME_HTML",
    "OUTCOME_PENDING",
    "OUTCOME_REJECTED",
    "OUTCOME_SLOW_ANSWER",
    "Exchange",
    "Fault",
    "FaultKind",
    "FreeTier",
    "MockLLMServer",
    "RecordedRequest",
    "generation_answer",
    "judge_answer",
    "judge_score",
    "mock_cost_usd",
    "model_listing",
    "run_mock_server",
]
