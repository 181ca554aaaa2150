"""Done, stale or to do for each task, from the files on disk and what the task needs now.

Every place that needs the answer asks here: the LLM assets (what to skip, whether a
generation is ready to be judged), ``daydreaming estimate`` and the command's "to do" counts,
and ``parsed_scores`` (only done results are counted). The decision itself is
``experiment.task_state.decide``; this module supplies its inputs: the call each task would
make now and the stored call record and answer file.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..experiment.call_identity import CallIdentity, sha256_text
from ..experiment.file_names import file_stem_to_key
from ..experiment.prompts import evaluation_prompt_text
from ..experiment.task_state import (
    NOTHING_STORED,
    Decision,
    Expected,
    Stored,
    TaskState,
    decide,
)
from ..experiment.tasks import EvaluationTask, GenerationTask
from .data_layout import DataLayout, read_record, text_path

GENERATION_ANSWER = "generation_answer_sha256"
# What a slim result keeps of a call record (see ``StoredResult.slim``).
SLIM_RECORD_KEYS = ("provider", GENERATION_ANSWER)


@dataclass(frozen=True, slots=True)
class StoredResult:
    """A partition's files as they are now: the record, the answer text and its hash.

    A slim result (see ``slim``) keeps the hash but not the text, and of the record only what
    the scores and summaries read: at 24,750 tasks the texts and records alone are over 100 MB.
    """

    record: dict[str, Any] | None
    text: str | None
    answer_sha256: str | None = None  # hash of ``text``, kept when the text is dropped

    @classmethod
    def of(cls, record: dict[str, Any] | None, text: str | None) -> StoredResult:
        return cls(record, text, sha256_text(text) if text is not None else None)

    @property
    def stored(self) -> Stored:
        if self.record is None and self.answer_sha256 is None:
            return NOTHING_STORED
        return Stored(self.record, self.answer_sha256)

    def slim(self) -> StoredResult:
        """This result with its text dropped and its record cut to ``SLIM_RECORD_KEYS``."""
        record = self.record
        if record is not None:
            record = {key: record[key] for key in SLIM_RECORD_KEYS if key in record}
        return StoredResult(record, None, self.answer_sha256)


def read_stored(folder: Path, partition_key: str) -> StoredResult:
    try:
        text: str | None = text_path(folder, partition_key).read_text(encoding="utf-8")
    except FileNotFoundError:
        text = None
    return StoredResult.of(read_record(folder, partition_key), text)


@dataclass(frozen=True, slots=True)
class GenerationStatus:
    task: GenerationTask
    decision: Decision
    expected: Expected | None  # None once slimmed
    stored: StoredResult

    @property
    def state(self) -> TaskState:
        return self.decision.state

    @property
    def answer(self) -> str | None:
        """The answer an evaluation may judge: only a done generation has one."""
        return self.stored.text if self.decision.done else None


@dataclass(frozen=True, slots=True)
class EvaluationStatus:
    task: EvaluationTask
    decision: Decision
    expected: Expected | None  # None while its generation is not done
    prompt: str | None  # the judge prompt it would send now (None likewise)
    stored: StoredResult
    generation: GenerationStatus

    @property
    def state(self) -> TaskState:
        return self.decision.state


def not_ready_reason(generation: GenerationStatus) -> str:
    """The words an evaluation uses when its generation cannot be judged yet."""
    return f"generation not ready: {generation.task.task_id} ({generation.decision.reason})"


class TaskStatusReader:
    """Decides task states against one endpoint and one set of evaluation templates."""

    def __init__(self, layout: DataLayout, base_url: str, evaluation_templates: dict[str, str]):
        self.layout = layout
        self.base_url = base_url
        self._templates = evaluation_templates

    def expected_generation(self, task: GenerationTask) -> Expected:
        return Expected(
            CallIdentity.of(
                self.base_url,
                task.model,
                task.prompt_sha256,
                task.temperature,
                task.max_tokens,
                task.replicate,
                task.request_options,
            )
        )

    def generation(self, task: GenerationTask) -> GenerationStatus:
        stored = read_stored(self.layout.generation_responses, task.task_id)
        expected = self.expected_generation(task)
        return GenerationStatus(task, decide(expected, stored.stored), expected, stored)

    def evaluation_template(self, name: str) -> str:
        if name not in self._templates:
            raise ValueError(
                f"evaluation template {name!r} is not active; re-materialize "
                "evaluation_templates (and the task assets)."
            )
        return self._templates[name]

    def evaluation_prompt(self, task: EvaluationTask, answer: str) -> str:
        self.evaluation_template(task.template)
        return evaluation_prompt_text(self._templates, task.template, answer)

    def expected_evaluation(self, task: EvaluationTask, answer: str) -> tuple[Expected, str]:
        """What judging ``answer`` would be made from, and the prompt it would send."""
        prompt = self.evaluation_prompt(task, answer)
        call = CallIdentity.of(
            self.base_url,
            task.model,
            sha256_text(prompt),
            task.temperature,
            task.max_tokens,
            task.replicate_label,
            task.request_options,
        )
        return Expected(call, {GENERATION_ANSWER: sha256_text(answer)}), prompt

    def evaluation(self, task: EvaluationTask, generation: GenerationStatus) -> EvaluationStatus:
        stored = read_stored(self.layout.evaluation_responses, task.task_id)
        answer = generation.answer
        if answer is None:
            decision = decide(None, stored.stored, not_ready_reason(generation))
            return EvaluationStatus(task, decision, None, None, stored, generation)
        expected, prompt = self.expected_evaluation(task, answer)
        decision = decide(expected, stored.stored)
        return EvaluationStatus(task, decision, expected, prompt, stored, generation)


def results_on_disk(folder: Path) -> set[str]:
    """Partition keys with an answer file in ``folder``."""
    if not folder.exists():
        return set()
    with os.scandir(folder) as entries:
        return {
            file_stem_to_key(entry.name[: -len(".txt")])
            for entry in entries
            if entry.name.endswith(".txt") and not entry.name.startswith(".")
        }


@dataclass
class ExperimentStatus:
    """Every task's state for the current selection, and the results set aside."""

    generations: dict[str, GenerationStatus] = field(default_factory=dict)
    evaluations: dict[str, EvaluationStatus] = field(default_factory=dict)
    set_aside_generations: int = 0
    set_aside_evaluations: int = 0
    base_url: str = ""

    def counts(self, stage: str) -> dict[TaskState, int]:
        statuses: Iterable = (
            self.generations.values() if stage == "generation" else self.evaluations.values()
        )
        counted = Counter(status.state for status in statuses)
        return {state: counted.get(state, 0) for state in TaskState}

    def pending(self, stage: str) -> list[str]:
        """Tasks a run must process (stale or to do), in task-table order."""
        statuses = self.generations if stage == "generation" else self.evaluations
        return [key for key, status in statuses.items() if not status.decision.done]

    @property
    def fingerprint(self) -> str:
        """A hash of every task's state and of the exact answers behind the done ones: equal
        fingerprints mean the scores and summaries would come out the same."""
        parts: list[Any] = [self.base_url.rstrip("/")]
        for statuses in (self.generations, self.evaluations):
            for key, status in statuses.items():
                answer = status.stored.stored.answer_sha256 if status.decision.done else ""
                parts.append([key, status.state.value, answer])
        return sha256_text(json.dumps(parts))


def slim_generation(status: GenerationStatus) -> GenerationStatus:
    return replace(status, expected=None, stored=status.stored.slim())


def slim_evaluation(status: EvaluationStatus, generation: GenerationStatus) -> EvaluationStatus:
    return replace(
        status, expected=None, prompt=None, stored=status.stored.slim(), generation=generation
    )


Visitor = Callable[[GenerationStatus | EvaluationStatus], None]


def experiment_status(
    reader: TaskStatusReader,
    generation_tasks: dict[str, GenerationTask],
    evaluation_tasks: dict[str, EvaluationTask],
    visit: Visitor | None = None,
) -> ExperimentStatus:
    """The state of every task of the selection (the one place it is worked out in bulk).

    Memory stays small whatever the experiment's size: each generation is read with the
    evaluations that judge it, ``visit`` (if given) sees each full status while its texts,
    records and judge prompts are at hand, and only slim statuses (states, answer hashes,
    provider) are kept. So at most one generation's files are held at a time.
    """
    layout = reader.layout
    judged_by: dict[str, list[EvaluationTask]] = {key: [] for key in generation_tasks}
    for key, task in evaluation_tasks.items():
        if task.generation_task_id not in judged_by:
            raise ValueError(
                f"evaluation task {key} judges {task.generation_task_id}, which is not in "
                "generation_tasks.csv; re-materialize the task assets."
            )
        judged_by[task.generation_task_id].append(task)
    status = ExperimentStatus(base_url=reader.base_url)
    evaluations: dict[str, EvaluationStatus] = {}
    for key, task in generation_tasks.items():
        generation = reader.generation(task)
        if visit is not None:
            visit(generation)
        slim = slim_generation(generation)
        status.generations[key] = slim
        for evaluation_task in judged_by.pop(key):
            judged = reader.evaluation(evaluation_task, generation)
            if visit is not None:
                visit(judged)
            evaluations[evaluation_task.task_id] = slim_evaluation(judged, slim)
    status.evaluations = {key: evaluations[key] for key in evaluation_tasks}
    status.set_aside_generations = len(
        results_on_disk(layout.generation_responses) - set(generation_tasks)
    )
    status.set_aside_evaluations = len(
        results_on_disk(layout.evaluation_responses) - set(evaluation_tasks)
    )
    return status
