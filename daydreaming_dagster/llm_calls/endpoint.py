"""Which endpoint the calls go to: ``OPENROUTER_BASE_URL``, else OpenRouter.

Free of Dagster and the openai SDK, so commands that only need the address (``estimate``)
start quickly; ``LLMClientResource.resolved_base_url`` gives the same answer.
"""

from __future__ import annotations

import os

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
BASE_URL_ENV = "OPENROUTER_BASE_URL"


def resolve_base_url(configured: str | None = None) -> str:
    """``configured``, else the environment's ``OPENROUTER_BASE_URL``, else OpenRouter."""
    return configured or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
