"""Rendering the report's pages with Jinja2 (templates in ``report/templates``).

Every page carries its own CSS (and the matrix its script), so a run's folder keeps working
as it was written, and nothing is ever fetched from elsewhere. Links are relative: ``pages``
leads to the folder of the overview and matrix being shown, ``base`` to the run's folder
(its data, charts and generation pages), ``root`` to the report's root (the list of runs).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..experiment.file_names import key_to_file_stem

HERE = Path(__file__).parent
GENERATIONS_DIR = "generations"


def generation_file(task_id: str) -> str:
    """The generation page's file name inside the run's ``generations`` folder."""
    return f"{key_to_file_stem(task_id)}.html"


def generation_href(task_id: str) -> str:
    """The page's address relative to the run's folder (its ``%`` escaped as ``%25``)."""
    return f"{GENERATIONS_DIR}/{quote(generation_file(task_id))}"


def _usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:.6f}".rstrip("0").rstrip(".") if value else "$0"


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(HERE / "templates")),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["usd"] = _usd
    env.filters["seconds"] = _seconds
    env.globals["css"] = (HERE / "static" / "report.css").read_text(encoding="utf-8")
    return env


@lru_cache(maxsize=1)
def matrix_script() -> str:
    return (HERE / "static" / "matrix.js").read_text(encoding="utf-8")


def render(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values)


def prefixes(where: str, run_id: str) -> dict[str, str]:
    """The relative prefixes (see the module docstring) for a page at ``where``: ``root``
    (the report's root pages), ``run`` (a run's overview and matrix) or ``generation``."""
    if where == "root":
        return {"pages": "", "base": f"runs/{run_id}/", "root": ""}
    if where == "run":
        return {"pages": "", "base": "", "root": "../../"}
    return {"pages": "../", "base": "../", "root": "../../../"}


def overview_page(where: str, overview: dict[str, Any]) -> str:
    return render(
        "overview.html.j2",
        page="overview",
        **prefixes(where, overview["run_id"]),
        **overview,
    )


def matrix_page(where: str, run_id: str, matrix: dict[str, Any]) -> str:
    return render(
        "matrix.html.j2",
        page="matrix",
        run_id=run_id,
        matrix_js=matrix_script(),
        **prefixes(where, run_id),
        **matrix,
    )


def generation_page(run_id: str, generation: Any, concepts: list[Any], labels: dict) -> str:
    return render(
        "generation.html.j2",
        page="generation",
        run_id=run_id,
        g=generation,
        concepts=concepts,
        flag_labels=labels,
        **prefixes("generation", run_id),
    )


def runs_page(runs: list[Any], latest: str) -> str:
    models = sorted({m for r in runs for m in r.figures if m})
    labels = sorted({r.figure_label for r in runs if r.figure_label})
    return render(
        "runs.html.j2",
        page="runs",
        run_id=latest,
        pages="",
        base="",
        root="",
        runs=runs,
        models=models,
        figure_labels=labels,
    )
