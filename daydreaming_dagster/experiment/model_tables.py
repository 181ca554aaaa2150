"""Model and template tables from the CSV files in data/01_raw."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

MODEL_COLUMNS = ("model", "short_name", "active", "temperature", "max_tokens")
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
    return table


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


def concurrency_limits(models: pd.DataFrame, default: int) -> dict[str, int]:
    """model -> calls in flight allowed: the CSV's optional max_concurrency, else ``default``."""
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
