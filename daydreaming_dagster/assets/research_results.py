"""The tables that make the answer defensible, for ``final_results``: the headline answer
(reinvention rate per generator, with the calibration controls), judge reliability, paired
model comparisons and the judges against the human reviewers.

Besides the parsed scores they read two optional files: the calibration scores
(``--calibrate``) and the human scores (``daydreaming review import``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..experiment.call_identity import sha256_text
from ..experiment.headline import (
    RUBRIC_TEMPLATE,
    calibration_pass_rates,
    headline,
    headline_note,
)
from ..experiment.paired_comparisons import paired_comparisons
from ..experiment.reliability import (
    TENTATIVE_ALPHA,
    TRUST_ALPHA,
    judge_reliability,
    judge_vs_human,
    reliability_lines,
)
from ..experiment.summary import to_markdown
from ..experiment.summary_context import SummaryContext
from ..records.data_layout import DataLayout
from ..records.human_review import human_scores_path, read_human_scores

CALIBRATION_FILE = "calibration_scores.csv"
NO_HUMANS = (
    "No human scores yet: `uv run daydreaming review export --n 20 --out sheet.csv`, fill in "
    "the score column, then `uv run daydreaming review import sheet.csv`."
)


def read_calibration(layout: DataLayout) -> pd.DataFrame | None:
    """The calibration scores of the last ``--calibrate``, or None when it never ran."""
    path = layout.parsing / CALIBRATION_FILE
    try:
        return pd.read_csv(path)
    except (OSError, ValueError):
        return None


def extra_inputs_digest(layout: DataLayout) -> str:
    """A hash of the summary's inputs beside the parsed scores (calibration and human scores),
    so that new ones make the summaries out of date."""
    parts = []
    for path in (layout.parsing / CALIBRATION_FILE, human_scores_path(layout)):
        parts.append(sha256_text(path.read_text("utf-8")) if path.exists() else "none")
    return sha256_text("|".join(parts))


@dataclass
class ResearchResults:
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    headline_section: str = ""
    reliability_section: str = ""
    later_sections: list[str] = field(default_factory=list)


def research_results(
    parsed_scores: pd.DataFrame, layout: DataLayout, about: SummaryContext | None
) -> ResearchResults:
    """Every new table (by file name), and the summary.md sections that show them."""
    calibration = read_calibration(layout)
    judges = sorted(parsed_scores["evaluation_model"].dropna().unique())
    tables = {
        "headline": headline(parsed_scores, calibration),
        "calibration_pass_rates": calibration_pass_rates(calibration, judges),
        "judge_reliability": judge_reliability(parsed_scores),
        "paired_model_comparisons": paired_comparisons(parsed_scores),
        "judge_vs_human": judge_vs_human(parsed_scores, read_human_scores(layout)),
    }
    source = ""
    if about is not None:
        local = " (a local endpoint, not a hosted provider)" if about.local_endpoint else ""
        source = f"_Answers from {about.endpoint_host}{local}; the context follows below._\n\n"
    headline_section = (
        f"## headline: does a generator reinvent the daydreaming loop?\n\n{source}"
        f"{to_markdown(tables['headline'])}\n\n{headline_note()}"
    )
    reliability = "\n".join(reliability_lines(tables["judge_reliability"])) or "_no scores_"
    reliability_section = (
        "## judge reliability\n\nKrippendorff's alpha (interval) across all judges, per "
        "evaluation template, with a bootstrap 95% interval over essays. A mean of the judges' "
        f"scores is trusted at alpha >= {TRUST_ALPHA:.3f} and read as tentative from "
        f"{TENTATIVE_ALPHA:.3f}: Krippendorff's own thresholds for relying on coded data, and "
        "judges are coders.\n\n"
        f"{reliability}\n\n{to_markdown(tables['judge_reliability'])}"
    )
    humans = tables["judge_vs_human"]
    later = [
        "## paired model comparisons\n\nmodel_a - model_b on the items both answered (same "
        "combination, generation template and evaluation template; each essay's score is its "
        "mean over judges); paired bootstrap 95% interval, Wilcoxon signed-rank p and Holm-"
        f"adjusted p over all rows.\n\n{to_markdown(tables['paired_model_comparisons'])}",
        "## judge vs human\n\n" + (NO_HUMANS if humans.empty else to_markdown(humans)),
        f"## calibration pass rates ({RUBRIC_TEMPLATE})\n\n"
        + (
            "Not run: add --calibrate."
            if tables["calibration_pass_rates"].empty
            else to_markdown(tables["calibration_pass_rates"])
        ),
    ]
    return ResearchResults(tables, headline_section, reliability_section, later)
