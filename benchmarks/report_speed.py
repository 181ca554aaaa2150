"""How fast the HTML report is written and read (issue 16's figures).

```bash
uv run python benchmarks/report_speed.py              # both parts below
uv run python benchmarks/report_speed.py --skip-run   # only the 24,750-call report
```

1. Default experiment: ``daydreaming run`` (150 generations, 600 evaluations) against the mock
   server in a throw-away project, then the report written again in this process
   (``write_report``, every page anew) and by the ``daydreaming report`` command (with its
   interpreter start-up). Target: writing the report takes at most 10% of the run.
2. At scale: a synthetic data folder shaped like 12 concepts at k = 4 (495 combinations x 5
   templates x 2 generators = 4,950 generations, each judged by 2 judges with 2 templates:
   19,800 judgements, 24,750 calls), essays of about 3,000 characters, judge answers of about
   1,200, prompts of about 5,000. The report is written, then opened from disk in headless
   Chromium. Targets: it opens in under 3 s; a filter shows its rows in under 1 s.

Browser times are measured in the page: from the start of navigation to the load event (the
matrix renders its first page of rows before that), and for a filter from the change event to
the next frame after the rows are replaced. The essays for the text search load in the
background once the page is up; the first search is timed apart from a later one (it waits for
them if they are not in yet). Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

from temp_project import Selection, base_env, make_project, run_command, venv_script

from daydreaming_dagster.experiment.file_names import key_to_file_stem
from daydreaming_dagster.experiment.summary_context import StageCounts, SummaryContext
from daydreaming_dagster.mock_llm_server import MockLLMServer
from daydreaming_dagster.records.data_layout import DataLayout
from daydreaming_dagster.report.writer import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WORDS = (
    "loop idea memory critic generator background recombine insight novel concept test filter "
    "network default mode search verify gap economic value discovery process daydream pair"
).split()
GENERATORS = ["deepseek/deepseek-r1:free", "google/gemma-3-27b-it:free"]
JUDGES = ["deepseek/deepseek-chat-v3-0324:free", "google/gemini-2.5-flash"]
EVAL_TEMPLATES = ["creativity_insight", "daydreaming_loop_rubric"]
GEN_TEMPLATES = [f"0{i}_template" for i in range(5)]


def prose(rng: random.Random, chars: int) -> str:
    words, size = [], 0
    while size < chars:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
        if rng.random() < 0.02:
            words.append("\n\n")
    return " ".join(words)


def write_rows(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def synthetic_data(root: Path, concepts: int = 12, k: int = 4, seed: int = 16) -> DataLayout:
    """A data folder with 24,750 calls' worth of files (for 12 concepts at k = 4)."""
    rng = random.Random(seed)
    layout = DataLayout(root)
    ids = [f"concept-{n:02d}" for n in range(1, concepts + 1)]
    combos = [(f"combo_{n:03d}", c) for n, c in enumerate(combinations(ids, k), start=1)]
    write_rows(
        layout.tasks / "content_combinations.csv",
        [["combo_id", "position", "concept_id", "name", "description_level", "description"]]
        + [[cid, str(p), c, c.title(), "paragraph", prose(rng, 300)]
           for cid, members in combos for p, c in enumerate(members, start=1)],
    )  # fmt: skip
    generations = [["generation_task_id", "combo_id", "generation_template", "generation_model",
                    "replicate", "concept_ids"]]  # fmt: skip
    scores = [["evaluation_task_id", "generation_task_id", "combo_id", "generation_template",
               "generation_model", "evaluation_template", "evaluation_model", "score", "error",
               "score_line", "evaluation_replicate", "state", "generation_state"]]  # fmt: skip
    folders = {
        "gen": layout.generation_responses,
        "prompt": layout.generation_prompts,
        "eval": layout.evaluation_responses,
    }
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    record = {"provider": "mock", "prompt_tokens": 1400, "completion_tokens": 700,
              "cost_usd": 0.0004, "latency_s": 1.2, "finish_reason": "stop"}  # fmt: skip
    for combo_id, members in combos:
        for template in GEN_TEMPLATES:
            for model in GENERATORS:
                key = f"{combo_id}_{template}_{model}"
                stem = key_to_file_stem(key)
                generations.append([key, combo_id, template, model, "1", "|".join(members)])
                (folders["gen"] / f"{stem}.txt").write_text(prose(rng, 3000), "utf-8")
                (folders["gen"] / f"{stem}.json").write_text(json.dumps(record), "utf-8")
                (folders["prompt"] / f"{stem}.txt").write_text(prose(rng, 5000), "utf-8")
                for eval_template in EVAL_TEMPLATES:
                    for judge in JUDGES:
                        ekey = f"{key}_{eval_template}_{judge}"
                        score = f"{rng.randint(0, 100) / 10:.1f}"
                        answer = prose(rng, 1200) + f"\nSCORE: {score}"
                        estem = key_to_file_stem(ekey)
                        (folders["eval"] / f"{estem}.txt").write_text(answer, "utf-8")
                        (folders["eval"] / f"{estem}.json").write_text(json.dumps(record), "utf-8")
                        line = f"SCORE: {score}"
                        scores.append([ekey, key, combo_id, template, model, eval_template,
                                       judge, score, "", line, "1", "done", "done"])  # fmt: skip
    write_rows(layout.tasks / "generation_tasks.csv", generations)
    write_rows(layout.parsing / "parsed_scores.csv", scores)
    context = SummaryContext(
        endpoint_host="127.0.0.1:8765", generation_models=GENERATORS, evaluation_models=JUDGES,
        concepts=ids, k_values=[k], description_levels=["paragraph"],
        generation_templates=GEN_TEMPLATES, evaluation_templates=EVAL_TEMPLATES,
        generation=StageCounts(done=len(generations) - 1),
        evaluation=StageCounts(done=len(scores) - 1),
        inputs_fingerprint="synthetic", made_at="2026-12-07T00:00:00+00:00",
    )  # fmt: skip
    layout.summary.mkdir(parents=True, exist_ok=True)
    (layout.summary / "summary_context.json").write_text(context.to_json(), "utf-8")
    return layout


def default_run_figures() -> dict[str, float]:
    """Run time of the default experiment, and the report's write time on its results."""
    scratch = Path(tempfile.mkdtemp(prefix="daydreaming-report-bench-"))
    try:
        project = make_project(scratch, "default")
        with MockLLMServer() as mock:
            started = time.perf_counter()
            done = subprocess.run(
                run_command(project, Selection()), cwd=project, env=base_env(mock.base_url),
                capture_output=True, text=True, timeout=1800,
            )  # fmt: skip
            run_s = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"daydreaming run failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        in_process = write_report(DataLayout(project / "data")).seconds
        started = time.perf_counter()
        command = [*venv_script("daydreaming"), "report", "--data-root", str(project / "data")]
        subprocess.run(command, cwd=project, check=True, capture_output=True, timeout=600)
        command_s = time.perf_counter() - started
        return {"run_s": run_s, "write_s": in_process, "command_s": command_s}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


MEASURE_FILTER = """async ([selector, value]) => {
  const el = document.querySelector(selector);
  const start = performance.now();
  el.value = value;
  el.dispatchEvent(new Event(selector === '#search' ? 'input' : 'change'));
  const table = document.getElementById('matrix');
  if (selector === '#search') {
    while (document.getElementById('search-status').textContent !== '') {
      await new Promise(r => setTimeout(r, 5));
    }
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  return [performance.now() - start, Number(table.getAttribute('data-matching'))];
}"""
LOAD_TIME = "() => performance.getEntriesByType('navigation')[0].loadEventEnd"


def browser_figures(index: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    figures: dict[str, float] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(index.resolve().as_uri())
        figures["open_overview_s"] = page.evaluate(LOAD_TIME) / 1000
        page.goto((index.parent / "matrix.html").resolve().as_uri())
        page.wait_for_selector("#matrix[data-ready='true']")
        figures["open_matrix_s"] = page.evaluate(LOAD_TIME) / 1000
        figures["rows"] = float(page.get_attribute("#matrix", "data-matching") or 0)
        ms, shown = page.evaluate(MEASURE_FILTER, ["#filter-concept", "concept-05"])
        figures["filter_concept_s"], figures["filter_concept_rows"] = ms / 1000, shown
        ms, shown = page.evaluate(MEASURE_FILTER, ["#filter-model", GENERATORS[0]])
        figures["filter_model_s"], figures["filter_model_rows"] = ms / 1000, shown
        ms, _ = page.evaluate(MEASURE_FILTER, ["#search", "critic loop"])
        figures["first_search_s"] = ms / 1000
        ms, shown = page.evaluate(MEASURE_FILTER, ["#search", "memory critic"])
        figures["next_search_s"], figures["next_search_rows"] = ms / 1000, shown
        page.click("a.generation-link")
        page.wait_for_selector("#answer")
        figures["open_generation_s"] = page.evaluate(LOAD_TIME) / 1000
        browser.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-run", action="store_true", help="only the 24,750-call report")
    parser.add_argument("--keep", action="store_true", help="keep the synthetic data folder")
    args = parser.parse_args(argv)
    lines = []
    if not args.skip_run:
        fig = default_run_figures()
        share = fig["write_s"] / fig["run_s"]
        lines += [
            f"default experiment: daydreaming run {fig['run_s']:.2f} s (report included); "
            f"report written again in-process {fig['write_s']:.2f} s = {share:.1%} of the run "
            f"(target <= 10%: {'met' if share <= 0.10 else 'NOT met'}); "
            f"`daydreaming report` command {fig['command_s']:.2f} s",
        ]
    scratch = Path(tempfile.mkdtemp(prefix="daydreaming-report-scale-"))
    try:
        started = time.perf_counter()
        layout = synthetic_data(scratch / "data")
        made = time.perf_counter() - started
        result = write_report(layout)
        size = sum(p.stat().st_size for p in layout.report.rglob("*") if p.is_file())
        lines.append(
            f"24,750 calls (synthetic files made in {made:.1f} s): report written in "
            f"{result.seconds:.2f} s, {size / 1e6:.0f} MB, {result.generations} generations"
        )
        if CHROMIUM is None:
            lines.append("browser figures skipped: chromium is not installed")
        else:
            fig = browser_figures(result.index)
            opened = max(fig["open_overview_s"], fig["open_matrix_s"]) < 3
            filtered = max(fig["filter_concept_s"], fig["filter_model_s"]) < 1
            lines += [
                f"  open overview {fig['open_overview_s']:.2f} s, open matrix "
                f"{fig['open_matrix_s']:.2f} s ({fig['rows']:.0f} rows; target < 3 s: "
                f"{'met' if opened else 'NOT met'})",
                f"  filter by concept {fig['filter_concept_s'] * 1000:.0f} ms "
                f"({fig['filter_concept_rows']:.0f} rows), then by model "
                f"{fig['filter_model_s'] * 1000:.0f} ms ({fig['filter_model_rows']:.0f} rows) "
                f"(target < 1 s: {'met' if filtered else 'NOT met'})",
                f"  first text search (essays still loading in the background) "
                f"{fig['first_search_s']:.2f} s, next "
                f"search {fig['next_search_s'] * 1000:.0f} ms ({fig['next_search_rows']:.0f} rows)",
                f"  open one generation's page {fig['open_generation_s']:.2f} s",
            ]
    finally:
        if args.keep:
            lines.append(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
