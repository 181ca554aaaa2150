"""Materialize many LLM partitions in one Dagster run, calls running concurrently.

Dagster hands a batch asset every partition key of the run (one key for ``--partition KEY``,
hundreds for "Materialize all partitions"). For each key we render the prompt, reuse the answer
if the same call was already paid for, or queue the call on a ``CallRunner``. Each finished
partition is reported as its own ``AssetMaterialization`` right away, so the UI keeps per-partition
status and metadata, and a run that fails part-way has already recorded every success. The files
are the record: a partition's call record (.json) is written before its text (.txt), each
atomically, so after a crash a text file always has its record and no file is half-written.
"""

import time
from collections.abc import Iterator
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetMaterialization,
    DagsterExecutionInterruptedError,
    Failure,
    MetadataValue,
)

from ..experiment.call_identity import sha256_text
from ..llm_calls.budget import Prices
from ..llm_calls.call_runner import CallRequest, CallRunner
from ..llm_calls.failures import LLMCallError
from ..llm_calls.interrupt import request_stop, stop_requested
from ..records.data_layout import text_path
from ..resources.llm_client import (
    LLMClientResource,
)
from .batch_events import outcome_events, prompt_event, response_event
from .batch_stage import PartitionFailure, Stage, Tally, WaitForGeneration
from .call_setup import make_runner, store_answer
from .generation_watch import PID_TAG, WORKER_TAG

PROGRESS_EVERY_S = 5.0
GRACE_S = 6.0  # after Ctrl-C, how long answers already on their way are waited for
WAIT_POLL_S = 0.25
DRAIN_EVERY = 25
SHOWN_FAILURES = 50


class Progress:
    def __init__(self, context: AssetExecutionContext, stage: Stage, tally: Tally):
        self._log = context.log
        self._stage = stage
        self._tally = tally
        self._last = time.monotonic()

    def report(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        t = self._tally
        self._log.info(
            f"{self._stage.label}: {t.finished}/{t.total} partitions finished ({t.called} called, "
            f"{t.reused} reused without a call, {len(t.failures)} failed); "
            f"${t.charged_usd:.4f} spent in this run"
        )


def failure_for(stage: Stage, tally: Tally, stop_error: LLMCallError | None) -> Failure:
    lines = ["| partition | reason |", "|---|---|"]
    for key, reason in list(tally.failures.items())[:SHOWN_FAILURES]:
        lines.append(f"| {key} | {reason.replace('|', '/')} |")
    first_key, first_reason = next(iter(tally.failures.items()))
    stored = tally.finished - len(tally.failures)
    headline = (
        f"{len(tally.failures)} of {tally.total} {stage.label} partitions failed; the other "
        f"{stored} are stored. Running the same selection again redoes only the failed ones "
        f"(answers already paid for are reused)."
    )
    if stop_error is not None:
        headline += f" The run stopped early: {stop_error}"
    return Failure(
        description=f"{headline} First failure: {first_key}: {first_reason}",
        metadata={
            "failed": len(tally.failures),
            "stored": stored,
            "failed_partitions": MetadataValue.md("\n".join(lines)),
            "failures": MetadataValue.json(tally.failures),
            "failure_kinds": MetadataValue.json(tally.failure_kinds),
        },
    )


def materialize_stage(
    context: AssetExecutionContext, stage: Stage, llm: LLMClientResource, cache_root: Path
) -> Iterator[AssetMaterialization]:
    """Process every partition key of the run for the selected prompt and/or response asset."""
    selected = context.selected_asset_keys
    call_models = stage.response_asset in selected
    keys = list(context.partition_keys)
    known = {asset: context.instance.get_materialized_partitions(asset) for asset in selected}
    tally = Tally(total=len(keys))
    progress = Progress(context, stage, tally)
    runner = (
        make_runner(
            llm,
            stage.model_limits,
            cache_root,
            context.log,
            store=lambda outcome: store_answer(stage.response_folder, outcome),
            request_rates=stage.request_rates,
        )
        if call_models
        else None
    )
    try:
        yield from _process(context, stage, llm, runner, keys, known, tally, progress)
    except DagsterExecutionInterruptedError:
        # Ctrl-C: no new call starts; answers already on their way are waited for a little
        # while and stored, then the step ends (the next run continues from there).
        request_stop()
        if runner is not None:
            yield from _wind_down(context, stage, runner, tally)
    except GeneratorExit:
        request_stop()
        raise
    finally:
        tally.interrupted = stop_requested()
        if runner is not None:
            runner.close(wait=not tally.interrupted)
            for warning in runner.price_warnings:
                context.log.warning(warning)
        if PID_TAG in context.run.tags or WORKER_TAG in context.run.tags:  # the command reads it
            tally.write(context.run.run_id)
    if tally.interrupted:
        raise Failure(
            description=f"interrupted: {tally.finished - len(tally.failures)} of {tally.total} "
            f"{stage.label} partitions are stored; run the same selection again to continue.",
            metadata={"interrupted": True},
        )
    progress.report(final=True)
    if tally.failures:
        raise failure_for(stage, tally, runner.stop_error if runner else None)


def _process(
    context: AssetExecutionContext,
    stage: Stage,
    llm: LLMClientResource,
    runner: CallRunner | None,
    keys: list[str],
    known: dict,
    tally: Tally,
    progress: Progress,
) -> Iterator[AssetMaterialization]:
    """Plan every key, submit the calls, and report each partition as it finishes; keys whose
    generation a live run is still producing are planned again until it is there."""
    write_prompts = stage.prompt_asset in context.selected_asset_keys
    waiting = keys
    while True:
        if stop_requested():
            for key in waiting:
                tally.fail(key, "not_attempted", "not attempted: the run was interrupted")
            if runner is not None:
                yield from _wind_down(context, stage, runner, tally)
            return
        still_waiting = []
        for number, key in enumerate(waiting, start=1):
            if runner is not None and number % DRAIN_EVERY == 0:
                # Store answers that already came back while the rest are being queued.
                for outcome in runner.drain(0):
                    yield from outcome_events(context, stage, outcome, tally)
            try:
                planned = stage.plan(key)
            except WaitForGeneration:
                still_waiting.append(key)
                continue
            except PartitionFailure as exc:
                tally.fail(key, exc.kind, str(exc))
                context.log.error(f"{key}: {exc}")
                continue
            spec = planned.spec
            yield from prompt_event(stage, key, planned.prompt, spec, known, write_prompts)
            if runner is None:
                tally.prompts_only += 1
                continue
            if planned.done and llm.reuse_stored_responses:
                if key in known[stage.response_asset]:
                    tally.already_done += 1
                else:
                    tally.reused += 1
                    path = text_path(stage.response_folder, key)
                    record = planned.stored_record or {}
                    yield response_event(stage, key, record, path, "stored", 0, 0.0)
                continue
            runner.submit(
                CallRequest(
                    key,
                    spec.model,
                    planned.prompt,
                    sha256_text(planned.prompt),
                    spec.temperature,
                    spec.max_tokens,
                    stage.prices.get(spec.model, Prices(None, None)),
                    spec.replicate,
                    made_from=planned.made_from,
                    request_options=spec.request_options,
                )
            )
        waiting = still_waiting
        busy = runner is not None and runner.busy
        if runner is not None:
            for outcome in runner.drain(WAIT_POLL_S if (busy or waiting) else 0):
                yield from outcome_events(context, stage, outcome, tally)
        progress.report()
        if not waiting and not (runner is not None and runner.busy):
            break
        if waiting and not busy:
            time.sleep(WAIT_POLL_S)


def _wind_down(
    context: AssetExecutionContext, stage: Stage, runner: CallRunner, tally: Tally
) -> Iterator[AssetMaterialization]:
    """Store what arrives from calls already in flight, for at most ``GRACE_S`` seconds."""
    deadline = time.monotonic() + GRACE_S
    while runner.busy and time.monotonic() < deadline:
        for outcome in runner.drain(WAIT_POLL_S):
            yield from outcome_events(context, stage, outcome, tally)
