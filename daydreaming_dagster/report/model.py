"""What the report shows of one generation and its judgements, as plain values.

Built from the files (see ``sources``) one generation at a time, so a report of thousands of
generations never holds every essay at once. Scores are kept as the text ``parsed_scores.csv``
holds, so the report shows exactly the figure the summaries were made from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FLAGS = ("truncated", "unreadable", "failed", "stale")
FLAG_LABELS = {
    "truncated": "truncated",
    "unreadable": "unreadable score",
    "failed": "failed",
    "stale": "stale",
}


def _number(value: Any) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Call:
    """One model call's figures, from the call record beside its answer."""

    requested_model: str = ""
    answered_by_model: str = ""
    provider: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None
    cost_usd: float | None = None
    cost_source: str = ""
    latency_s: float | None = None
    finish_reason: str = ""
    truncated: bool = False
    created_at: str = ""
    temperature: float | None = None
    max_tokens: int | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> Call | None:
        if not record:
            return None

        def whole(name: str) -> int | None:
            value = _number(record.get(name))
            return None if value is None else int(value)

        return cls(
            requested_model=str(record.get("requested_model") or ""),
            answered_by_model=str(record.get("answered_by_model") or ""),
            provider=str(record.get("provider") or ""),
            prompt_tokens=whole("prompt_tokens"),
            completion_tokens=whole("completion_tokens"),
            reasoning_tokens=whole("reasoning_tokens"),
            cost_usd=_number(record.get("cost_usd")),
            cost_source=str(record.get("cost_source") or ""),
            latency_s=_number(record.get("latency_s")),
            finish_reason=str(record.get("finish_reason") or ""),
            truncated=bool(record.get("truncated")),
            created_at=str(record.get("created_at") or ""),
            temperature=_number(record.get("temperature")),
            max_tokens=whole("max_tokens"),
        )


@dataclass
class Judgement:
    """One evaluation task of a generation, as parsed_scores.csv and its files have it."""

    evaluation_task_id: str
    template: str
    judge: str
    replicate: str
    state: str
    score: str  # the text of parsed_scores.csv's score cell; "" when there is none
    error: str
    score_line: str
    answer: str | None = None
    call: Call | None = None
    failure: str = ""  # why the last attempt failed, when it did and the task is not done

    @property
    def score_value(self) -> float | None:
        return _number(self.score)

    @property
    def unreadable(self) -> bool:
        """Done, but no score could be read from the answer."""
        return self.state == "done" and self.score_value is None


@dataclass
class Generation:
    """One generation task: its combination, prompt, answer, call and judgements."""

    task_id: str
    combo_id: str
    concept_ids: tuple[str, ...]
    template: str
    model: str
    replicate: str
    state: str
    state_reason: str = ""
    prompt: str | None = None
    answer: str | None = None
    call: Call | None = None
    judgements: list[Judgement] = field(default_factory=list)
    failure: str = ""

    @property
    def flags(self) -> list[str]:
        """Which of ``FLAGS`` apply, in that order."""
        found = []
        if self.call is not None and self.call.truncated:
            found.append("truncated")
        if any(j.unreadable for j in self.judgements):
            found.append("unreadable")
        if self.failure or any(j.failure for j in self.judgements):
            found.append("failed")
        if self.state == "stale" or any(j.state == "stale" for j in self.judgements):
            found.append("stale")
        return found
