"""Judge calibration, on demand: do the judges score a text that has the idea above texts that
do not? Hand-written controls in data/01_raw/controls are judged exactly like generations.

Not part of a default run: materialize ``calibration_scores`` in the UI, or pass
``--calibrate`` to ``daydreaming run``.
"""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from ..experiment.headline import FULL_LOOP_CONTROL
from ..experiment.model_tables import concurrency_limits, price_table, request_rates
from ..experiment.prompts import evaluation_prompt_text
from ..experiment.score_parsing import parse_score
from ..experiment.summary import to_markdown
from ..llm_calls.budget import Prices
from ..llm_calls.call_runner import CallRequest
from ..records.data_layout import text_path, write_text_atomic
from ..resources.data_paths import DataPathsResource
from ..resources.llm_client import LLMClientResource, prompt_digest
from .call_setup import make_runner
from .llm_prompts_responses import LLM_POOL
from .validity_checks import result_from_problems

FULL_LOOP = FULL_LOOP_CONTROL
# "Clearly above": the full-loop control must beat every other control by this many points.
MARGIN = 2.0
COLUMNS = ["control", "evaluation_template", "evaluation_model", "score", "error", "path"]


@asset(
    group_name="calibration",
    kinds={"openai", "csv"},
    io_manager_key="parsing_io_manager",
    pool=LLM_POOL,
)
def calibration_scores(
    context: AssetExecutionContext,
    evaluation_templates: dict[str, str],
    evaluation_models: pd.DataFrame,
    llm: LLMClientResource,
    data_paths: DataPathsResource,
) -> MaterializeResult:
    """Every control text scored by every active judge with every active evaluation template."""
    layout = data_paths.layout
    controls = {
        p.stem: p.read_text(encoding="utf-8") for p in sorted(layout.controls_dir.glob("*.txt"))
    }
    if FULL_LOOP not in controls:
        raise Failure(f"No {FULL_LOOP}.txt in {layout.controls_dir}: nothing to calibrate against.")
    prices = {m: Prices(*p) for m, p in price_table(evaluation_models).items()}
    runner = make_runner(
        llm,
        concurrency_limits(evaluation_models, llm.max_concurrent_per_model),
        layout.response_cache,
        context.log,
        request_rates=request_rates(evaluation_models),
    )
    requests = {}
    for control, text in controls.items():
        for template in sorted(evaluation_templates):
            prompt = evaluation_prompt_text(evaluation_templates, template, text)
            for judge in evaluation_models.itertuples(index=False):
                key = f"{control}_{template}_{judge.model}"
                requests[key] = (control, template, judge.model)
                runner.submit(
                    CallRequest(
                        key,
                        judge.model,
                        prompt,
                        prompt_digest(prompt),
                        float(judge.temperature),
                        int(judge.max_tokens),
                        prices.get(judge.model, Prices(None, None)),
                    )
                )
    rows, failures = [], {}
    try:
        while len(rows) + len(failures) < len(requests):
            for outcome in runner.drain(0.2):
                control, template, judge = requests[outcome.request.key]
                if not outcome.ok:
                    failures[outcome.request.key] = str(outcome.error)
                    continue
                path = text_path(layout.calibration_responses, outcome.request.key)
                write_text_atomic(path, outcome.text or "")
                parsed = parse_score(outcome.text or "")
                rows.append([control, template, judge, parsed.score, parsed.error, str(path)])
    finally:
        runner.close()
    if failures:
        raise Failure(
            f"{len(failures)} of {len(requests)} calibration calls failed; the answers received "
            f"are cached and reused next time. First: {next(iter(failures.items()))}",
            metadata={"failures": MetadataValue.json(failures)},
        )
    table = pd.DataFrame(rows, columns=COLUMNS).sort_values(COLUMNS[:3]).reset_index(drop=True)
    wide = table.pivot_table(
        index=["evaluation_template", "evaluation_model"], columns="control", values="score"
    ).reset_index()
    return MaterializeResult(
        value=table,
        metadata={"scores": MetadataValue.md(to_markdown(wide)), "calls": len(requests)},
    )


def miscalibrated(table: pd.DataFrame, margin: float = MARGIN) -> list[str]:
    """(judge, template) pairs whose full-loop score is not ``margin`` above every other control."""
    problems = []
    for (template, judge), block in table.groupby(["evaluation_template", "evaluation_model"]):
        scores = dict(zip(block["control"], block["score"], strict=True))
        full = scores.get(FULL_LOOP)
        others = {c: s for c, s in scores.items() if c != FULL_LOOP}
        if not others:
            problems.append(f"{judge} on {template}: no other control to compare with")
            continue
        best_other = max(others, key=lambda c: -1 if pd.isna(others[c]) else others[c])
        if full is None or pd.isna(full) or any(pd.isna(s) for s in others.values()):
            problems.append(f"{judge} on {template}: some controls got no readable score")
        elif full < others[best_other] + margin:
            problems.append(
                f"{judge} on {template}: full_loop {full:g} is not {margin:g} points above "
                f"{best_other} {others[best_other]:g}"
            )
    return problems


@asset_check(asset="calibration_scores")
def judges_rank_the_full_loop_control_first(calibration_scores: pd.DataFrame) -> AssetCheckResult:
    """Warns when a judge does not score the full-loop control clearly above the others."""
    problems = miscalibrated(calibration_scores)
    return result_from_problems(
        problems,
        AssetCheckSeverity.WARN,
        f"every judge scores {FULL_LOOP} at least {MARGIN:g} points above every other control",
        {"miscalibrated": len(problems)},
    )
