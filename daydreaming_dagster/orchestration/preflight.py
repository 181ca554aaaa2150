"""Before any Dagster run: is there a key, does the endpoint answer, does it know the models?

A missing key or a dead endpoint would otherwise surface as hundreds of failed partitions;
here it is a few lines saying what to set. Where the endpoint lists its models (``GET
/models``), unknown ids are named with the closest known ones, and prices or context lengths
that disagree with the models CSVs are pointed out.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ..experiment.call_identity import endpoint_host
from ..experiment.model_tables import active_only, load_models
from ..experiment.summary_context import is_local_host
from ..records.data_layout import DataLayout
from ..resources.llm_client import (
    API_KEY_ENV,
    BASE_URL_ENV,
    LLMClientResource,
    LLMConfigurationError,
)

TIMEOUT_S = 10.0
PRICE_TOLERANCE = 0.01


@dataclass
class Preflight:
    problems: list[str] = field(default_factory=list)  # the run cannot start
    warnings: list[str] = field(default_factory=list)  # it can, but something looks off

    @property
    def ok(self) -> bool:
        return not self.problems


def active_models(layout: DataLayout) -> dict[str, dict[str, Any]]:
    """Every active generator and judge, with its CSV row."""
    rows: dict[str, dict[str, Any]] = {}
    for path, what in (
        (layout.generation_models_file, "generation models"),
        (layout.evaluation_models_file, "evaluation models"),
    ):
        for row in active_only(load_models(path), what).to_dict("records"):
            rows[str(row["model"])] = row
    return rows


def list_models(llm: LLMClientResource) -> tuple[list[dict[str, Any]] | None, str]:
    """The endpoint's models (None when it has no model list) or why it could not be asked."""
    import openai

    client = openai.OpenAI(
        api_key=llm.ensure_api_key(),
        base_url=llm.resolved_base_url(),
        timeout=openai.Timeout(TIMEOUT_S, connect=TIMEOUT_S),
        max_retries=0,
    )
    try:
        page = client.models.list()
    except openai.APIConnectionError as exc:
        return None, f"could not connect ({exc.__cause__ or exc})"
    except openai.APIStatusError as exc:
        if exc.status_code in (401, 403):
            return None, f"refused the key (HTTP {exc.status_code})"
        return None, ""  # it answers, but has no model list here
    except (openai.APIResponseValidationError, ValueError):
        return None, ""
    return [model.model_dump() for model in page.data], ""


def _per_mtok(value: Any) -> float | None:
    try:
        return float(value) * 1e6
    except (TypeError, ValueError):
        return None


def compare_listing(row: dict[str, Any], listed: dict[str, Any]) -> list[str]:
    """Where the endpoint's facts about a model disagree with its CSV row."""
    notes = []
    pricing = listed.get("pricing") or {}
    for column, key in (("input_usd_per_mtok", "prompt"), ("output_usd_per_mtok", "completion")):
        theirs, ours = _per_mtok(pricing.get(key)), row.get(column)
        try:
            ours = float(ours)
        except (TypeError, ValueError):
            ours = None
        if theirs is None or ours is None or ours != ours:  # NaN: no price in the CSV
            continue
        if abs(theirs - ours) > PRICE_TOLERANCE * max(theirs, ours, 1e-9):
            notes.append(f"{column} is {ours:g} in the CSV, the endpoint says {theirs:g}")
    context = listed.get("context_length")
    if isinstance(context, int) and int(row.get("max_tokens") or 0) > context:
        notes.append(f"max_tokens {row['max_tokens']} exceeds its context length {context}")
    return notes


def preflight(llm: LLMClientResource, layout: DataLayout) -> Preflight:
    result = Preflight()
    url = llm.resolved_base_url()
    local = is_local_host(endpoint_host(url))
    try:
        llm.ensure_api_key()
    except LLMConfigurationError as exc:
        result.problems.append(str(exc))
        return result
    models = active_models(layout)
    listed, why = list_models(llm)
    if why:
        result.problems.append(
            f"The endpoint {url} {why}. Check {BASE_URL_ENV}"
            + (f" and {API_KEY_ENV}" if "key" in why else "")
            + " (in .env or your shell), or start the server it points at."
        )
        return result
    if listed is None:
        return result
    by_id = {str(entry.get("id")): entry for entry in listed}
    for model, row in models.items():
        if model not in by_id:
            close = difflib.get_close_matches(model, list(by_id), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(close)}?" if close else "."
            text = f"{model} is not among the models {url} lists{hint}"
            if local:
                result.warnings.append(text + " Its calls will probably fail.")
            else:
                result.problems.append(text + " Fix the 'model' column of the models CSV.")
            continue
        for note in compare_listing(row, by_id[model]):
            result.warnings.append(f"{model}: {note}.")
    return result
