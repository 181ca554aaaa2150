"""What a run would cost before it starts: calls still to make, tokens, and USD per model.

Nothing here calls a model. Prompts are rendered exactly as the assets render them, so a call
already answered (same endpoint, model, prompt and parameters) is recognised and not counted.
Token counts are estimates: about four characters per prompt token, and for answers the mean
length of this model's stored answers, or a quarter of max_tokens when it has none yet. The
upper bound assumes every answer runs to max_tokens.
"""

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .data_layout import DataLayout, read_records, text_path
from .experiment.model_tables import load_models, price_table
from .experiment.prompts import concepts_by_combo, evaluation_prompt_text, generation_prompt_text
from .experiment.tasks import evaluation_replicate_label
from .llm_calls.budget import Prices, estimated_prompt_tokens
from .llm_calls.response_cache import ResponseCache, call_key, stored_record_for_call
from .resources.llm_client import prompt_digest


@dataclass
class ModelEstimate:
    stage: str
    model: str
    tasks: int = 0
    done: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    max_completion_tokens: int = 0
    completion_assumed: bool = False
    prices: Prices = Prices(None, None)

    @property
    def calls(self) -> int:
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


class AnsweredCalls:
    """Whether a call was already paid for: in the partition's record or in the cache."""

    def __init__(self, cache: ResponseCache, base_url: str, reuse: bool):
        self._cache = cache
        self._base_url = base_url
        self._reuse = reuse

    def key(
        self,
        model: str,
        prompt: str,
        temperature: float,
        max_tokens: int,
        replicate: int | str = 1,
    ) -> str:
        return call_key(
            self._base_url, model, prompt_digest(prompt), temperature, max_tokens, replicate
        )

    def state(self, folder: Path, partition: str, key: str) -> str:
        """ "stored" (the partition holds this answer), "cached" (paid for, not yet copied to the
        partition) or "todo" (a call is needed)."""
        if not self._reuse:
            return "todo"
        if stored_record_for_call(folder, partition, key) is not None:
            return "stored"
        return "cached" if self._cache.path_for(key).exists() else "todo"


def _read_templates(folder: Path, names: set[str]) -> dict[str, str]:
    return {name: (folder / f"{name}.txt").read_text(encoding="utf-8") for name in names}


@dataclass
class Plan:
    """Per (stage, model) estimates, and each partition's state ("stored", "cached", "todo")."""

    estimates: list[ModelEstimate]
    states: dict[str, dict[str, str]]

    def pending(self, stage: str) -> list[str]:
        """Partitions a run must process: everything not already stored in its partition."""
        return [key for key, state in self.states[stage].items() if state != "stored"]


def estimate(layout: DataLayout, base_url: str, reuse: bool = True) -> Plan:
    """Plan the run for the task tables currently in ``layout.tasks``."""
    generation = pd.read_csv(layout.tasks / "generation_tasks.csv", keep_default_na=False)
    evaluation = pd.read_csv(layout.tasks / "evaluation_tasks.csv", keep_default_na=False)
    combos = pd.read_csv(layout.tasks / "content_combinations.csv", keep_default_na=False)
    prices = {
        **price_table(load_models(layout.generation_models_file)),
        **price_table(load_models(layout.evaluation_models_file)),
    }
    answered = AnsweredCalls(ResponseCache(layout.response_cache), base_url, reuse)
    gen_templates = _read_templates(
        layout.generation_templates_dir, set(generation["generation_template"])
    )
    eval_templates = _read_templates(
        layout.evaluation_templates_dir, set(evaluation["evaluation_template"])
    )
    gen_means = mean_completion_tokens(layout.generation_responses)
    eval_means = mean_completion_tokens(layout.evaluation_responses)
    concepts = concepts_by_combo(combos)
    estimates: dict[tuple[str, str], ModelEstimate] = {}
    states: dict[str, dict[str, str]] = {"generation": {}, "evaluation": {}}

    def entry(stage: str, model: str) -> ModelEstimate:
        if (stage, model) not in estimates:
            estimates[(stage, model)] = ModelEstimate(stage, model, prices=Prices(*prices[model]))
        return estimates[(stage, model)]

    def expected_answer(means: dict[str, float], model: str, max_tokens: int, e=None) -> int:
        if model in means:
            return int(means[model])
        if e is not None:
            e.completion_assumed = True
        return max_tokens // 4

    generation_answer_tokens: dict[str, int] = {}
    for task in generation.itertuples(index=False):
        e = entry("generation", task.generation_model)
        e.tasks += 1
        prompt = generation_prompt_text(
            gen_templates, task.generation_template, concepts[str(task.combo_id)]
        )
        key = answered.key(
            task.generation_model,
            prompt,
            task.temperature,
            task.max_tokens,
            int(getattr(task, "replicate", 1) or 1),
        )
        expected = expected_answer(gen_means, task.generation_model, task.max_tokens)
        generation_answer_tokens[task.generation_task_id] = expected
        state = answered.state(layout.generation_responses, task.generation_task_id, key)
        states["generation"][task.generation_task_id] = state
        if state != "todo":
            e.done += 1
            continue
        expected_answer(gen_means, task.generation_model, task.max_tokens, e)
        e.prompt_tokens += estimated_prompt_tokens(prompt)
        e.completion_tokens += expected
        e.max_completion_tokens += int(task.max_tokens)

    for task in evaluation.itertuples(index=False):
        e = entry("evaluation", task.evaluation_model)
        e.tasks += 1
        answer_path = text_path(layout.generation_responses, task.generation_task_id)
        if answer_path.exists():
            prompt = evaluation_prompt_text(
                eval_templates, task.evaluation_template, answer_path.read_text(encoding="utf-8")
            )
            key = answered.key(
                task.evaluation_model,
                prompt,
                task.temperature,
                task.max_tokens,
                evaluation_replicate_label(pd.Series(task._asdict())),
            )
            state = answered.state(layout.evaluation_responses, task.evaluation_task_id, key)
            states["evaluation"][task.evaluation_task_id] = state
            if state != "todo":
                e.done += 1
                continue
            prompt_tokens = estimated_prompt_tokens(prompt)
        else:
            states["evaluation"][task.evaluation_task_id] = "todo"
            template = eval_templates[task.evaluation_template]
            prompt_tokens = estimated_prompt_tokens(template) + generation_answer_tokens.get(
                task.generation_task_id, 0
            )
        e.prompt_tokens += prompt_tokens
        e.completion_tokens += expected_answer(
            eval_means, task.evaluation_model, task.max_tokens, e
        )
        e.max_completion_tokens += int(task.max_tokens)
    return Plan(list(estimates.values()), states)


def _usd(value: float | None) -> str:
    return "no price" if value is None else f"${value:,.4f}"


def format_estimate(estimates: list[ModelEstimate]) -> str:
    """A table a researcher can read before deciding to spend."""
    header = (
        f"{'stage':<11}{'model':<40}{'tasks':>6}{'done':>6}{'calls':>7}"
        f"{'prompt tok':>12}{'answer tok':>12}{'est. cost':>12}{'at most':>12}"
    )
    lines = [header, "-" * len(header)]
    for e in estimates:
        flag = "*" if e.completion_assumed and e.calls else " "
        lines.append(
            f"{e.stage:<11}{e.model[:39]:<40}{e.tasks:>6}{e.done:>6}{e.calls:>7}"
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
        f"{sum(e.calls for e in estimates):>7}"
        f"{sum(e.prompt_tokens for e in estimates):>12,}"
        f"{sum(e.completion_tokens for e in estimates):>12,}{_usd(total):>12}{_usd(top):>12}"
    )
    if any(e.completion_assumed and e.calls for e in estimates):
        lines.append(
            "* no stored answers from this model yet: assumed a quarter of max_tokens per answer"
        )
    lines.append(
        "Prompt tokens are estimated at 4 characters each; 'at most' assumes every answer "
        "reaches max_tokens."
    )
    return "\n".join(lines)
