"""Which quotas ran out during this command (told by the pacing state all its processes share)."""

from __future__ import annotations

from pathlib import Path

from ..assets.call_setup import make_pacer
from ..llm_calls.pacing import Exhaustion
from ..llm_calls.slots import default_slots_root
from ..resources.llm_client import LLMClientResource, LLMConfigurationError


def quota_exhaustions(llm: LLMClientResource) -> list[Exhaustion]:
    """Quotas this command's calls were refused for the day (not ones marked by other runs)."""
    try:
        llm.ensure_api_key()
    except LLMConfigurationError:
        return []
    root = Path(llm.slots_dir) if llm.slots_dir else default_slots_root(llm.resolved_base_url())
    pacer = make_pacer(llm, root, {})
    return [e for e in pacer.exhaustions() if e.noted_by == llm.invocation]
