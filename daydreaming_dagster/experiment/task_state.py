"""Done, stale or to do: the one decision about a task's stored result, made from hashes.

A result is done only when the call it records is exactly the call its task would make now
(same prompt, model, settings and endpoint), its answer file is the answer it recorded, and,
for an evaluation, the generation answer it judged is the one stored for its generation now.
A result that exists but fails any of these is stale: it is redone by the next run and never
counted. File times and the mere existence of a file or partition decide nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .call_identity import CallIdentity


class TaskState(StrEnum):
    DONE = "done"
    STALE = "stale"
    TODO = "to do"


@dataclass(frozen=True)
class Expected:
    """What a task's result must be made from now."""

    call: CallIdentity
    # Hashes of inputs beyond the call itself, by record field: for an evaluation, the
    # generation answer it must have judged (``generation_answer_sha256``).
    made_from: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Stored:
    """A task's stored result as it is on disk now."""

    record: Mapping[str, Any] | None  # the call record beside the answer
    answer_sha256: str | None  # hash of the answer file; None when there is no answer file

    @property
    def exists(self) -> bool:
        return self.record is not None and self.answer_sha256 is not None


NOTHING_STORED = Stored(None, None)


@dataclass(frozen=True)
class Decision:
    state: TaskState
    reason: str = ""

    @property
    def done(self) -> bool:
        return self.state is TaskState.DONE


def decide(expected: Expected | None, stored: Stored, not_ready: str = "") -> Decision:
    """The state of a task from what it needs now (``expected``, or None when an input it
    depends on is not ready, ``not_ready`` saying which) and what is stored."""
    if not stored.exists:
        reason = "not made yet"
        if stored.record is not None or stored.answer_sha256 is not None:
            reason = "only half of its files exist"
        return Decision(TaskState.TODO, f"{reason}; {not_ready}" if not_ready else reason)
    assert stored.record is not None
    if expected is None:
        return Decision(TaskState.STALE, not_ready or "an input it depends on is not ready")
    if stored.record.get("answer_sha256") != stored.answer_sha256:
        return Decision(TaskState.STALE, "its answer file is not the answer its record describes")
    made = CallIdentity.from_record(stored.record)
    if made is None:
        return Decision(TaskState.STALE, "its call record is incomplete")
    if made.key != expected.call.key:
        changes = expected.call.differences(made)
        return Decision(TaskState.STALE, ", ".join(changes) or "its call changed")
    for name, value in expected.made_from.items():
        if stored.record.get(name) != value:
            what = name.removesuffix("_sha256").replace("_", " ")
            return Decision(TaskState.STALE, f"made from another {what}")
    return Decision(TaskState.DONE)
