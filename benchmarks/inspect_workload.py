"""The DayDreaming workload expressed as Inspect AI tasks, for a like-for-like comparison.

Inspect evaluates one model per task, so there is one task per generator model, holding one
sample per generation task of that model (the same rendered prompt, temperature and max_tokens
the pipeline sends). Each task has one ``model_graded_qa`` scorer per evaluation template; the
scorer's ``grader`` model role is bound to the list of judge models, so every judge grades every
answer (Inspect fans a role bound to a list out into one grading call per model). Total calls:
one per generation task plus one per evaluation task, the same as ``daydreaming run``.

The prompts are rendered here from the task CSVs that the project's setup step writes, with the
same Jinja settings as the pipeline; the evaluation templates are turned into Inspect grading
templates whose only placeholder is ``{answer}``, so judges see byte-identical prompts.

Run as a script (that is how the benchmark times it, imports included)::

    python benchmarks/inspect_workload.py --project DIR --base-url http://127.0.0.1:PORT/v1
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

RESULT_MARKER = "INSPECT_RESULT "
SERVICE = "mock"  # model names become openai-api/mock/<model>
SCORE_PATTERN = r"(?s).*SCORE:\s*([0-9]+(?:\.[0-9]+)?)"
_SENTINEL = "\x00ANSWER\x00"
_JINJA = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


@dataclass(frozen=True)
class ModelSettings:
    """A model id with the sampling parameters the pipeline sends for it."""

    model: str
    temperature: float
    max_tokens: int


@dataclass(frozen=True)
class GenerationItem:
    task_id: str
    prompt: str
    generator: ModelSettings


@dataclass(frozen=True)
class Workload:
    """Everything needed to reproduce the pipeline's calls, read from one project folder."""

    generations: list[GenerationItem]
    judges: list[ModelSettings]
    grading_templates: dict[str, str]
    evaluation_count: int

    @property
    def expected_calls(self) -> int:
        return len(self.generations) + self.evaluation_count


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _settings(row: dict[str, str], model_column: str) -> ModelSettings:
    return ModelSettings(row[model_column], float(row["temperature"]), int(row["max_tokens"]))


def render_generation_prompts(project: Path) -> list[GenerationItem]:
    """Render every generation task's prompt exactly as the pipeline does."""
    raw, tasks = project / "data" / "01_raw", project / "data" / "02_tasks"
    concepts_by_combo: dict[str, list[dict[str, str]]] = defaultdict(list)
    combo_rows = sorted(_rows(tasks / "content_combinations.csv"), key=lambda r: int(r["position"]))
    for row in combo_rows:
        concept = {k: row[k] for k in ("concept_id", "name", "description")}
        concepts_by_combo[row["combo_id"]].append(concept)
    items = []
    for row in _rows(tasks / "generation_tasks.csv"):
        template_path = raw / "generation_templates" / f"{row['generation_template']}.txt"
        template = _JINJA.from_string(template_path.read_text(encoding="utf-8"))
        prompt = template.render(concepts=concepts_by_combo[row["combo_id"]])
        generator = _settings(row, "generation_model")
        items.append(GenerationItem(row["generation_task_id"], prompt, generator))
    return items


def grading_template(jinja_text: str) -> str:
    """An evaluation template as an Inspect ``str.format`` template with ``{answer}`` only."""
    rendered = _JINJA.from_string(jinja_text).render(response=_SENTINEL)
    escaped = rendered.replace("{", "{{").replace("}", "}}")
    return escaped.replace(_SENTINEL, "{answer}")


def load_workload(project: Path) -> Workload:
    """Read the tasks the project's setup step wrote; judges and templates come from them too."""
    raw, tasks = project / "data" / "01_raw", project / "data" / "02_tasks"
    evaluations = _rows(tasks / "evaluation_tasks.csv")
    judges = {row["evaluation_model"]: _settings(row, "evaluation_model") for row in evaluations}
    names = sorted({row["evaluation_template"] for row in evaluations})
    templates = {
        name: grading_template(
            (raw / "evaluation_templates" / f"{name}.txt").read_text(encoding="utf-8")
        )
        for name in names
    }
    generations = render_generation_prompts(project)
    return Workload(generations, list(judges.values()), templates, len(evaluations))


def _model(settings: ModelSettings, base_url: str) -> Any:
    from inspect_ai.model import GenerateConfig, get_model

    config = GenerateConfig(temperature=settings.temperature, max_tokens=settings.max_tokens)
    return get_model(
        f"openai-api/{SERVICE}/{settings.model}",
        base_url=base_url,
        api_key="benchmark-mock-key",
        config=config,
    )


def build_tasks(workload: Workload, base_url: str) -> list[Any]:
    """One Inspect task per generator model; judges bound to the ``grader`` role."""
    from inspect_ai import Task
    from inspect_ai.dataset import Sample
    from inspect_ai.scorer import mean, model_graded_qa, stderr
    from inspect_ai.solver import generate

    judges = [_model(judge, base_url) for judge in workload.judges]
    scorers = [
        model_graded_qa(
            template=template,
            instructions="(see above)",
            grade_pattern=SCORE_PATTERN,
            model_role="grader",
            reducer="mean",
        )
        for template in workload.grading_templates.values()
    ]
    by_generator: dict[ModelSettings, list[GenerationItem]] = defaultdict(list)
    for item in workload.generations:
        by_generator[item.generator].append(item)
    return [
        Task(
            dataset=[Sample(input=item.prompt, target="", id=item.task_id) for item in items],
            solver=generate(),
            scorer=scorers,
            metrics=[mean(), stderr()],
            model=_model(generator, base_url),
            model_roles={"grader": judges},
            name=f"daydreaming_{index}",
        )
        for index, (generator, items) in enumerate(by_generator.items())
    ]


def run(project: Path, base_url: str, log_dir: Path, max_connections: int) -> dict[str, Any]:
    """Evaluate every task concurrently; only ``max_connections`` per model limits throughput."""
    from inspect_ai import eval as inspect_eval

    workload = load_workload(project)
    tasks = build_tasks(workload, base_url)
    logs = inspect_eval(
        tasks,
        model=None,
        max_connections=max_connections,
        max_samples=max(len(workload.generations), 1),
        max_tasks=len(tasks),
        log_dir=str(log_dir),
        display="none",
        fail_on_error=False,
    )
    return {
        "tasks": len(tasks),
        "samples": sum(len(log.samples or []) for log in logs),
        "statuses": [log.status for log in logs],
        "sample_errors": sum(1 for log in logs for s in (log.samples or []) if s.error),
        "expected_calls": workload.expected_calls,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, required=True, help="folder with data/02_tasks")
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible endpoint (…/v1)")
    parser.add_argument("--log-dir", type=Path, default=Path("inspect-logs"))
    parser.add_argument("--max-connections", type=int, default=16)
    args = parser.parse_args(argv)
    result = run(args.project, args.base_url, args.log_dir, args.max_connections)
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0 if all(status == "success" for status in result["statuses"]) else 1


if __name__ == "__main__":
    sys.exit(main())
