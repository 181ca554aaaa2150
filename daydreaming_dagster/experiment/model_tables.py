"""Model and template tables from the CSV files in data/01_raw."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

MODEL_COLUMNS = ("model", "short_name", "active", "temperature", "max_tokens")
REASONING_EFFORTS = ("minimal", "low", "medium", "high")
_TRUE = {"true", "1", "yes", "y"}
_FALSE = {"false", "0", "no", "n", ""}


def parse_active(values: pd.Series, source: str) -> pd.Series:
    """Turn an ``active`` column of true/false words into booleans; anything else is an error."""
    words = values.fillna("").astype(str).str.strip().str.lower()
    bad = sorted(set(words) - _TRUE - _FALSE)
    if bad:
        raise ValueError(f"{source}: column 'active' must be true or false, found {bad}.")
    return words.isin(_TRUE)


def load_models(path: Path) -> pd.DataFrame:
    """All rows of a models CSV, with ``active`` as bool and numeric generation parameters."""
    table = pd.read_csv(path, dtype={"model": str, "short_name": str})
    missing = [c for c in MODEL_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path} is missing columns {missing}; expected at least {MODEL_COLUMNS}.")
    if table["model"].duplicated().any():
        dupes = sorted(table.loc[table["model"].duplicated(), "model"])
        raise ValueError(f"{path} lists these models twice: {dupes}.")
    table["active"] = parse_active(table["active"], str(path))
    table["temperature"] = pd.to_numeric(table["temperature"], errors="raise").astype(float)
    table["max_tokens"] = pd.to_numeric(table["max_tokens"], errors="raise").astype(int)
    for row in table.to_dict("records"):
        request_options(row, str(path))  # refuse a bad reasoning or provider setting now
    return table


def _text(value: object) -> str:
    return (
        "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip()
    )


def request_options(row: dict, source: str = "the models CSV") -> dict:
    """What a model's row sends besides temperature and max_tokens (OpenRouter's fields):

    - ``reasoning_effort`` (minimal/low/medium/high) or ``reasoning_max_tokens``: how much a
      reasoning model may think; its reasoning tokens share max_tokens with the answer;
    - ``provider_order`` (providers joined by ``|``) and ``allow_fallbacks`` (true/false): pin
      who serves the model, for reproducible runs.
    """
    options: dict = {}
    model = row.get("model")
    effort = _text(row.get("reasoning_effort")).lower()
    budget = _optional_number(row.get("reasoning_max_tokens"))
    if effort and effort not in REASONING_EFFORTS:
        raise ValueError(
            f"{source}: reasoning_effort of {model} is {effort!r}; use one of {REASONING_EFFORTS}."
        )
    if effort and budget is not None:
        raise ValueError(
            f"{source}: give {model} reasoning_effort or reasoning_max_tokens, not both."
        )
    if budget is not None and (budget < 1 or budget != int(budget)):
        raise ValueError(f"{source}: reasoning_max_tokens of {model} must be a whole number >= 1.")
    if effort:
        options["reasoning"] = {"effort": effort}
    elif budget is not None:
        options["reasoning"] = {"max_tokens": int(budget)}
    order = [p.strip() for p in _text(row.get("provider_order")).split("|") if p.strip()]
    fallbacks = _text(row.get("allow_fallbacks")).lower()
    if fallbacks and fallbacks not in _TRUE | _FALSE:
        raise ValueError(f"{source}: allow_fallbacks of {model} must be true or false.")
    provider: dict = {}
    if order:
        provider["order"] = order
    if fallbacks:
        provider["allow_fallbacks"] = fallbacks in _TRUE
    if provider:
        options["provider"] = provider
    return options


def options_text(options: dict) -> str:
    """The canonical text of request options ('' for none): part of a call's identity."""
    return json.dumps(options, sort_keys=True, separators=(",", ":")) if options else ""


def active_only(table: pd.DataFrame, what: str) -> pd.DataFrame:
    """Rows with ``active`` true; none at all is an error that says where to switch one on."""
    active = table[table["active"]].reset_index(drop=True)
    if active.empty:
        raise ValueError(f"No active {what}: set active=true for at least one row.")
    return active


def _optional_number(value: object) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return None if pd.isna(number) else float(number)


def price_table(models: pd.DataFrame) -> dict[str, tuple[float | None, float | None]]:
    """model -> (input, output) USD per million tokens; None where the CSV gives no price."""
    return {
        str(row["model"]): (
            _optional_number(row.get("input_usd_per_mtok")),
            _optional_number(row.get("output_usd_per_mtok")),
        )
        for _, row in models.iterrows()
    }


def concurrency_limits(models: pd.DataFrame, default: int | None) -> dict[str, int | None]:
    """model -> calls in flight allowed: the CSV's optional max_concurrency, else ``default``
    (None: unknown, left to the endpoint's limit and adaptive concurrency)."""
    limits = {}
    for _, row in models.iterrows():
        value = _optional_number(row.get("max_concurrency"))
        limits[str(row["model"])] = int(value) if value is not None and value >= 1 else default
    return limits


def request_rates(models: pd.DataFrame) -> dict[str, int]:
    """model -> requests per minute allowed, from the CSV's optional requests_per_minute
    column (blank: no limit of its own)."""
    rates = {}
    for _, row in models.iterrows():
        value = _optional_number(row.get("requests_per_minute"))
        if value is not None and value >= 1:
            rates[str(row["model"])] = int(value)
    return rates
