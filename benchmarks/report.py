"""Turning measurements into the printed table and the JSON record.

Kept apart from the orchestration so the figures (ratios, effective concurrency, pass/fail) are
computed in one place and the same numbers go to the screen and to the file.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Row:
    """One line of the table; ``passed`` is None when the metric has no target."""

    metric: str
    ours: str
    inspect: str = "-"
    target: str = "-"
    passed: bool | None = None


def machine_info() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def effective_concurrency(
    calls: int | None, latency_s: float, with_latency_s: float | None, without_s: float | None
) -> float | None:
    """calls × latency ÷ the wall time the latency added: how many calls overlapped on average."""
    if calls is None or with_latency_s is None or without_s is None:
        return None
    extra = with_latency_s - without_s
    if extra <= 0:
        return None
    return calls * latency_s / extra


def fmt(value: float | int | str | None, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}{unit}"
    return f"{value}{unit}"


def at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def at_least(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit


def render_table(rows: list[Row]) -> str:
    header = ("metric", "ours", "Inspect AI", "target", "pass/fail")
    verdict = {True: "PASS", False: "FAIL", None: ""}
    cells = [header] + [(r.metric, r.ours, r.inspect, r.target, verdict[r.passed]) for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]

    def line(values: tuple[str, ...]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(c) for c in cells[1:])])


def render_machine(machine: dict[str, Any]) -> str:
    return (
        f"Machine: {machine['cpu_count']} CPUs, {machine['platform']}, "
        f"Python {machine['python']}"
    )


def write_json(record: dict[str, Any], rows: list[Row]) -> Path:
    """Save everything measured to benchmarks/results/<timestamp>.json."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    payload = {**record, "table": [asdict(row) for row in rows]}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return path


ENDPOINT_SLOTS = 64  # calls in flight both systems are capped at (see benchmarks/README.md)
TARGET_SLOT_USE = 56.0  # effective concurrency, of ENDPOINT_SLOTS
TARGET_VS_INSPECT = 0.8  # our wall time at most this times Inspect's


def versus_inspect_rows(f: dict[str, Any], latency: str) -> list[Row]:
    """Issue 12's targets: hide latency at least as well as Inspect AI in the same run."""
    full = ratio(f["full_run_s"], f["inspect_full_s"])
    slow = ratio(f["full_run_latency_s"], f["inspect_latency_s"])
    pss, inspect_pss = f["peak_pss_mb"], f["inspect_peak_pss_mb"]
    return [
        Row(
            f"(e) effective concurrency, of {ENDPOINT_SLOTS} slots",
            fmt(f["concurrency"], digits=1),
            fmt(f["inspect_concurrency"], digits=1),
            f">= {TARGET_SLOT_USE:g}",
            at_least(f["concurrency"], TARGET_SLOT_USE),
        ),
        Row(
            "(e) full_run_s, ours / Inspect's",
            fmt(full),
            "1",
            f"<= {TARGET_VS_INSPECT:g}",
            at_most(full, TARGET_VS_INSPECT),
        ),
        Row(
            f"(e) full_run_latency_s ({latency} s), ours / Inspect's",
            fmt(slow),
            "1",
            f"<= {TARGET_VS_INSPECT:g}",
            at_most(slow, TARGET_VS_INSPECT),
        ),
        Row(
            "(e) peak PSS, ours vs Inspect's (MB)",
            fmt(pss, digits=0),
            fmt(inspect_pss, digits=0),
            "<= Inspect",
            None if pss is None or inspect_pss is None else pss <= inspect_pss,
        ),
    ]
