"""What a run would cost before it starts: calls still to make, tokens, and USD per model.

Nothing here calls a model. Which tasks are done, stale or to do is decided by
``task_status`` (the same decision the assets make), and a task that is not done needs a call
unless the response cache already holds its answer. An evaluation of a generation that is not
done yet is judged against the generation's cached answer when there is one; otherwise it is
counted as a call (its prompt depends on an answer nobody has seen yet). Identical calls are
counted once, as the run makes them once. Token counts are estimates: about four characters
per prompt token, and for answers the mean length of this model's stored answers, or a quarter
of max_tokens when it has none yet. The upper bound assumes every answer runs to max_tokens.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..experiment.model_tables import load_models, price_table
from ..experiment.task_state import TaskState, decide
from ..experiment.tasks import GenerationTask, evaluation_tasks_by_id, generation_tasks_by_id
from ..llm_calls.budget import Prices, estimated_prompt_tokens
from ..llm_calls.response_cache import ResponseCache
from ..records.data_layout import DataLayout, read_records
from ..records.task_status import (
    EvaluationStatus,
    ExperimentStatus,
    GenerationStatus,
    TaskStatusReader,
    experiment_status,
)
from ..records.task_tables import TaskTables

STAGES = ("generation", "evaluation")


@dataclass
class ModelEstimate:
    stage: str
    model: str
    tasks: int = 0
    done: int = 0
    stale: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    max_completion_tokens: int = 0
    completion_assumed: bool = False
    prices: Prices = Prices(None, None)

    @property
    def to_do(self) -> int:
        """Tasks the run will process: stale ones and ones never made."""
        return self.tasks - self.done

    @property
    def cost_usd(self) -> float | None:
        return self.prices.cost(self.prompt_tokens, self.completion_tokens)

    @property
    def max_cost_usd(self) -> float | None:
        return self.prices.cost(self.prompt_tokens, self.max_completion_tokens)


def mean_completion_tokens(folder: Path) -> dict[str, float]:
    """model -> mean completion tokens of its stored answers."""
    totals: dict[str, list[int]] = defaultdict(list)
    for record in read_records(folder):
        if record.get("completion_tokens"):
            totals[str(record.get("requested_model"))].append(int(record["completion_tokens"]))
    return {model: sum(v) / len(v) for model, v in totals.items()}


def read_evaluation_templates(layout: DataLayout, names: set[str]) -> dict[str, str]:
    return {
        name: (layout.evaluation_templates_dir / f"{name}.txt").read_text(encoding="utf-8")
        for name in names
    }


@dataclass
class Plan:
    """Per (stage, model) estimates, and the state of every task (see ``task_status``)."""

    estimates: list[ModelEstimate]
    status: ExperimentStatus
    reuse: bool = True
    expected_calls: dict[str, int] = field(default_factory=dict)

    def pending(self, stage: str) -> list[str]:
        """Partitions a run must process: every task not done (all of them under --force)."""
        if not self.reuse:
            statuses = self.status.generations if stage == "generation" else self.status.evaluations
            return list(statuses)
        return self.status.pending(stage)


class _Estimator:
    def __init__(self, layout: DataLayout, reader: TaskStatusReader, reuse: bool):
        models = [layout.generation_models_file, layout.evaluation_models_file]
        self.prices = {m: p for path in models for m, p in price_table(load_models(path)).items()}
        self.reader = reader
        self.reuse = reuse
        self.cache = ResponseCache(layout.response_cache)
        # Read on first use: a run with nothing to do never needs them (every record read
        # again, about 1 s per 10,000 answers).
        self._folders = {
            "generation": layout.generation_responses,
            "evaluation": layout.evaluation_responses,
        }
        self._means: dict[str, dict[str, float]] = {}
        self.estimates: dict[tuple[str, str], ModelEstimate] = {}
        self.keys_called: set[str] = set()

    def entry(self, stage: str, model: str) -> ModelEstimate:
        if (stage, model) not in self.estimates:
            prices = Prices(*self.prices.get(model, (None, None)))
            self.estimates[(stage, model)] = ModelEstimate(stage, model, prices=prices)
        return self.estimates[(stage, model)]

    def means(self, stage: str) -> dict[str, float]:
        if stage not in self._means:
            self._means[stage] = mean_completion_tokens(self._folders[stage])
        return self._means[stage]

    def answer_tokens(self, stage: str, model: str, max_tokens: int, e=None) -> int:
        means = self.means(stage)
        if model in means:
            return int(means[model])
        if e is not None:
            e.completion_assumed = True
        return max_tokens // 4

    def cached(self, key: str) -> bool:
        return self.reuse and (key in self.keys_called or self.cache.path_for(key).exists())

    def count(self, e: ModelEstimate, stage: str, key: str | None, prompt_tokens: int, top: int):
        """One task that is not done: a call unless its answer is (or will be) in the cache."""
        if key is not None and self.cached(key):
            return
        if key is not None:
            self.keys_called.add(key)
        e.calls += 1
        e.prompt_tokens += prompt_tokens
        e.completion_tokens += self.answer_tokens(stage, e.model, top, e)
        e.max_completion_tokens += top


class _Planner:
    """Counts each task as ``experiment_status`` reads it (a generation, then the evaluations
    that judge it), so no answer or judge prompt is kept beyond its own generation."""

    def __init__(
        self,
        layout: DataLayout,
        reader: TaskStatusReader,
        reuse: bool,
        combinations: pd.DataFrame | None = None,
    ):
        self.est = _Estimator(layout, reader, reuse)
        self.reader = reader
        self.reuse = reuse
        self.prompt_sizes = _PromptSizes(layout, combinations)
        # The generation being read, and the answer the run will have stored for it (None when
        # the run will ask for it anew: its judges' prompts are not known yet).
        self.generation: GenerationStatus | None = None
        self.new_answer: str | None = None

    def __call__(self, status: GenerationStatus | EvaluationStatus) -> None:
        if isinstance(status, GenerationStatus):
            self.generation_seen(status)
        else:
            self.evaluation_seen(status)

    def generation_seen(self, g: GenerationStatus) -> None:
        est, reuse = self.est, self.reuse
        self.generation = g
        e = est.entry("generation", g.task.model)
        e.tasks += 1
        if g.decision.done and reuse:
            e.done += 1
            self.new_answer = g.stored.text
            return
        e.stale += g.state is TaskState.STALE
        assert g.expected is not None
        call = g.expected.call.key
        hit = est.cache.get(call) if reuse else None
        self.new_answer = hit.text if hit is not None else None
        est.count(e, "generation", call, self.prompt_sizes.tokens(g.task), g.task.max_tokens)

    def evaluation_seen(self, v: EvaluationStatus) -> None:
        est, reuse = self.est, self.reuse
        e = est.entry("evaluation", v.task.model)
        e.tasks += 1
        if v.decision.done and reuse:
            e.done += 1
            return
        e.stale += v.state is TaskState.STALE
        answer = self.new_answer
        if answer is None:  # its generation will be answered in the run: prompt not known yet
            generation = v.generation
            template = self.reader.evaluation_template(v.task.template)
            tokens = estimated_prompt_tokens(template) + est.answer_tokens(
                "generation", generation.task.model, generation.task.max_tokens
            )
            est.count(e, "evaluation", None, tokens, v.task.max_tokens)
            return
        expected, prompt = self.reader.expected_evaluation(v.task, answer)
        if reuse and decide(expected, v.stored.stored).done:
            return  # done again once its generation's cached answer is stored: no call
        tokens = estimated_prompt_tokens(prompt)
        est.count(e, "evaluation", expected.call.key, tokens, v.task.max_tokens)

    def estimates(self) -> list[ModelEstimate]:
        """Generation rows first, then evaluation rows, each in the order models appeared."""
        rows = list(self.est.estimates.values())
        return sorted(rows, key=lambda e: STAGES.index(e.stage))


def estimate(
    layout: DataLayout, base_url: str, reuse: bool = True, tables: TaskTables | None = None
) -> Plan:
    """Plan the run for ``tables`` (as ``records.task_tables`` builds them without Dagster),
    or for the task tables currently in ``layout.tasks``."""
    if tables is None:
        generation = pd.read_csv(layout.tasks / "generation_tasks.csv", keep_default_na=False)
        evaluation = pd.read_csv(layout.tasks / "evaluation_tasks.csv", keep_default_na=False)
        templates = read_evaluation_templates(layout, set(evaluation["evaluation_template"]))
    else:
        generation, evaluation = tables.generation_tasks, tables.evaluation_tasks
        templates = tables.evaluation_templates
    reader = TaskStatusReader(layout, base_url, templates)
    generation_tasks = generation_tasks_by_id(generation)
    evaluation_tasks = evaluation_tasks_by_id(evaluation)
    del generation, evaluation  # the typed tasks are all that is needed from here on
    planner = _Planner(layout, reader, reuse, tables.content_combinations if tables else None)
    status = experiment_status(reader, generation_tasks, evaluation_tasks, visit=planner)
    estimates = planner.estimates()
    calls = {stage: sum(e.calls for e in estimates if e.stage == stage) for stage in STAGES}
    return Plan(estimates, status, reuse, calls)


class _PromptSizes:
    """Estimated prompt tokens of the generations that need a call, rendered as the generation step
    renders them (the task table holds only each prompt's hash). Nothing is read or rendered
    when every generation is done, as on a re-run."""

    def __init__(self, layout: DataLayout, combinations: pd.DataFrame | None = None):
        self._layout = layout
        self._combinations = combinations
        self._sizes: dict[tuple[str, str], int] = {}
        self._inputs: tuple[dict, dict] | None = None

    def tokens(self, task: GenerationTask) -> int:
        from ..experiment.prompts import concepts_by_combo, generation_prompt_text

        pair = (task.combo_id, task.template)
        if pair not in self._sizes:
            if self._inputs is None:
                combos = self._combinations
                if combos is None:
                    combos = pd.read_csv(
                        self._layout.tasks / "content_combinations.csv", keep_default_na=False
                    )
                self._inputs = ({}, concepts_by_combo(combos))
            templates, concepts = self._inputs
            if task.template not in templates:
                path = self._layout.generation_templates_dir / f"{task.template}.txt"
                templates[task.template] = path.read_text(encoding="utf-8")
            text = generation_prompt_text(templates, task.template, concepts[task.combo_id])
            self._sizes[pair] = estimated_prompt_tokens(text)
        return self._sizes[pair]


def _usd(value: float | None) -> str:
    return "no price" if value is None else f"${value:,.4f}"


def format_estimate(plan: Plan) -> str:
    """A table a researcher can read before deciding to spend."""
    estimates = plan.estimates
    header = (
        f"{'stage':<11}{'model':<40}{'tasks':>6}{'done':>6}{'stale':>6}{'calls':>7}"
        f"{'prompt tok':>12}{'answer tok':>12}{'est. cost':>12}{'at most':>12}"
    )
    lines = [header, "-" * len(header)]
    for e in estimates:
        flag = "*" if e.completion_assumed and e.calls else " "
        lines.append(
            f"{e.stage:<11}{e.model[:39]:<40}{e.tasks:>6}{e.done:>6}{e.stale:>6}{e.calls:>7}"
            f"{e.prompt_tokens:>12,}{e.completion_tokens:>11,}{flag}"
            f"{_usd(e.cost_usd):>12}{_usd(e.max_cost_usd):>12}"
        )
    costs = [e.cost_usd for e in estimates]
    tops = [e.max_cost_usd for e in estimates]
    total = None if None in costs else sum(c for c in costs if c is not None)
    top = None if None in tops else sum(c for c in tops if c is not None)
    lines.append("-" * len(header))
    lines.append(
        f"{'total':<51}{sum(e.tasks for e in estimates):>6}{sum(e.done for e in estimates):>6}"
        f"{sum(e.stale for e in estimates):>6}{sum(e.calls for e in estimates):>7}"
        f"{sum(e.prompt_tokens for e in estimates):>12,}"
        f"{sum(e.completion_tokens for e in estimates):>12,}{_usd(total):>12}{_usd(top):>12}"
    )
    if any(e.completion_assumed and e.calls for e in estimates):
        lines.append(
            "* no stored answers from this model yet: assumed a quarter of max_tokens per answer"
        )
    lines += [
        "Prompt tokens are estimated at 4 characters each; 'at most' assumes every answer "
        "reaches max_tokens.",
        "stale: stored results made from other inputs (a changed prompt, model setting or "
        "endpoint, or a regenerated answer);",
        "  they are redone and never counted until then. A task not done costs a call unless "
        "data/llm_cache holds its answer.",
    ]
    aside = set_aside_line(plan.status)
    if aside:
        lines.append(aside)
    lines += free_quota_lines(estimates)
    return "\n".join(lines)


FREE_DAILY_QUOTAS = (50, 1000)  # OpenRouter: below / at least 10 credits purchased


def free_quota_lines(estimates: list[ModelEstimate]) -> list[str]:
    """How far the calls of ':free' models reach against OpenRouter's daily free quota."""
    per_model: dict[str, int] = defaultdict(int)
    for e in estimates:
        if e.model.endswith(":free") and e.calls:
            per_model[e.model] += e.calls
    if not per_model:
        return []
    total = sum(per_model.values())
    days = ", ".join(f"{-(-total // quota)} day(s) at {quota}/day" for quota in FREE_DAILY_QUOTAS)
    lines = [
        f"':free' models share one daily quota on OpenRouter (50 requests a day, 1000 with 10 "
        f"credits bought) and 20 a minute: this plan needs {total} such calls ({days}):"
    ]
    lines += [f"  {model}: {calls}" for model, calls in sorted(per_model.items())]
    lines.append(
        "  A run that reaches the quota stops those models, keeps every answer, and says when "
        "to continue."
    )
    return lines


def set_aside_line(status: ExperimentStatus) -> str:
    """How many paid-for results belong to tasks outside this selection ('' when none)."""
    gens, evals = status.set_aside_generations, status.set_aside_evaluations
    if not gens and not evals:
        return ""
    return (
        f"Set aside: {gens} generation and {evals} evaluation results on disk belong to tasks "
        "outside this selection;\n  they are kept (paid for) and not counted in its summary."
    )
