"""The Dagster events a batch step emits for each partition: prompts written, answers stored,
with the same metadata keys on every path (new call, cache, already stored)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetMaterialization, MetadataValue

from ..llm_calls.call_runner import CallOutcome
from ..records.data_layout import text_path, write_text_atomic
from .batch_stage import CallSpec, Stage, Tally


def response_metadata(
    record: dict[str, Any], path: Path, source: str, attempts: int, charged: float
):
    """The same keys on every path (new call, cache, already stored) so the UI can chart them."""
    return {
        "model": str(record.get("requested_model") or ""),
        "answered_by_model": str(record.get("answered_by_model") or ""),
        "finish_reason": str(record.get("finish_reason") or ""),
        "truncated": bool(record.get("truncated")),
        "prompt_tokens": int(record.get("prompt_tokens") or 0),
        "completion_tokens": int(record.get("completion_tokens") or 0),
        "total_tokens": int(record.get("total_tokens") or 0),
        "reasoning_tokens": int(record.get("reasoning_tokens") or 0),
        "provider": str(record.get("provider") or ""),
        "cost_usd": float(record.get("cost_usd") or 0.0),
        "cost_source": str(record.get("cost_source") or "unknown"),
        "charged_now_usd": round(charged, 8),
        "latency_s": float(record.get("latency_s") or 0.0),
        "temperature": float(record.get("temperature") or 0.0),
        "max_tokens": int(record.get("max_tokens") or 0),
        "source": source,
        "attempts": attempts,
        "replicate": str(record.get("replicate") or 1),
        "path": MetadataValue.path(str(path)),
    }


def prompt_event(
    stage: Stage, key: str, prompt: str, spec: CallSpec, known: dict, selected: bool
) -> Iterator[AssetMaterialization]:
    """Write the prompt if it changed, so the file always holds what is sent; report it when
    its asset is selected and it changed or Dagster has no record of it."""
    path = text_path(stage.prompt_folder, key)
    unchanged = path.exists() and path.read_text(encoding="utf-8") == prompt
    if not unchanged:
        write_text_atomic(path, prompt, durable=False)  # rebuilt from the templates at no cost
    if not selected or (unchanged and key in known[stage.prompt_asset]):
        return
    yield AssetMaterialization(
        asset_key=stage.prompt_asset,
        partition=key,
        metadata={**spec.metadata, "chars": len(prompt), "path": MetadataValue.path(str(path))},
    )


def response_event(
    stage: Stage,
    key: str,
    record: dict,
    path: Path,
    source: str,
    attempts: int,
    charged: float,
    text: str | None = None,
) -> AssetMaterialization:
    """A partition's answer as stored: its call figures and, for the UI, the answer itself
    (read from ``path`` when ``text`` is not given)."""
    metadata = {}
    if stage.answer_metadata is not None:  # first: what a researcher looks for
        if text is None:
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                text = ""
        metadata.update(stage.answer_metadata(text, path))
    metadata.update(response_metadata(record, path, source, attempts, charged))
    return AssetMaterialization(asset_key=stage.response_asset, partition=key, metadata=metadata)


def outcome_events(
    context: AssetExecutionContext, stage: Stage, outcome: CallOutcome, tally: Tally
) -> Iterator[AssetMaterialization]:
    key = outcome.request.key
    if not outcome.ok:
        tally.charged_usd += outcome.charged_usd  # paid for even when it could not be stored
        tally.fail(key, outcome.error.kind.value, f"{outcome.error.kind.value}: {outcome.error}")
        context.log.error(f"{key}: {outcome.error}")
        return
    record = dict(outcome.record or {})  # its files were written by the call's worker thread
    path = text_path(stage.response_folder, key)
    if outcome.source == "model":
        tally.called += 1
        tally.unpriced_calls += record.get("cost_source") == "unknown"
        tally.charged_usd += outcome.charged_usd
    else:
        tally.reused += 1
    if record.get("truncated"):
        context.log.warning(
            f"{key}: {record.get('requested_model')} stopped at max_tokens="
            f"{record.get('max_tokens')} (finish_reason=length); the stored answer is truncated."
        )
    yield response_event(
        stage,
        key,
        record,
        path,
        outcome.source,
        outcome.attempts,
        outcome.charged_usd,
        outcome.text or "",
    )
