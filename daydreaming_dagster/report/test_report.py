"""The report written from a small, hand-made data folder: what each page holds, the flags,
the headline shown verbatim, runs kept apart, and nothing pointing outside the report."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from ..experiment.summary_context import StageCounts, SummaryContext
from ..records.data_layout import DataLayout, record_path, text_path
from .runs import Headline, headline_figures, run_id_for
from .tables import format_number
from .writer import write_report

G1 = "combo_001_00_systematic_analytical_deepseek/deepseek-r1:free"
G2 = "combo_002_00_systematic_analytical_deepseek/deepseek-r1:free"
JUDGES = ["google/gemini-2.5-flash", "deepseek/deepseek-chat-v3-0324:free"]
ANSWER_1 = "\nFirst line <b>not bold</b> & more\n\n  indented\nSCORE-free essay text\n"
HEADLINE = [
    ["generation_model", "reinvention_rate", "ci95_low", "ci95_high", "controls_pass_rate"],
    ["deepseek/deepseek-r1:free", "0.125", "0.05", "0.25", "1.0"],
]


def write_csv(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


def store(folder: Path, key: str, text: str, record: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text_path(folder, key).write_text(text, encoding="utf-8")
    record_path(folder, key).write_text(json.dumps(record), encoding="utf-8")


def context(made_at: str = "2026-12-01T10:00:00+00:00") -> SummaryContext:
    return SummaryContext(
        endpoint_host="127.0.0.1:8765",
        generation_models=["deepseek/deepseek-r1:free"],
        evaluation_models=sorted(JUDGES),
        concepts=["a-concept", "b-concept", "c-concept"],
        k_values=[2],
        description_levels=["paragraph"],
        generation_templates=["00_systematic_analytical"],
        evaluation_templates=["daydreaming_loop_rubric"],
        generation=StageCounts(done=2),
        evaluation=StageCounts(done=3, to_do=1),
        inputs_fingerprint="f" * 64,
        made_at=made_at,
    )


@pytest.fixture
def layout(tmp_path: Path) -> DataLayout:
    layout = DataLayout(tmp_path / "data")
    write_csv(
        layout.tasks / "generation_tasks.csv",
        [["generation_task_id", "combo_id", "generation_template", "generation_model",
          "replicate", "concept_ids"],
         [G1, "combo_001", "00_systematic_analytical", "deepseek/deepseek-r1:free", "1",
          "a-concept|b-concept"],
         [G2, "combo_002", "00_systematic_analytical", "deepseek/deepseek-r1:free", "1",
          "a-concept|c-concept"]],
    )  # fmt: skip
    write_csv(
        layout.tasks / "content_combinations.csv",
        [["combo_id", "position", "concept_id", "name", "description_level", "description"]]
        + [[f"combo_00{i}", str(p), c, c.upper(), "paragraph", f"about {c}"]
           for i, pair in ((1, "ab"), (2, "ac")) for p, c in
           enumerate((f"{pair[0]}-concept", f"{pair[1]}-concept"), start=1)],
    )  # fmt: skip
    generation_record = {"provider": "Chutes", "prompt_tokens": 900, "completion_tokens": 300,
                         "cost_usd": 0.0012, "latency_s": 2.5, "truncated": False}  # fmt: skip
    store(layout.generation_responses, G1, ANSWER_1, generation_record)
    store(
        layout.generation_responses, G2, "Second essay.", {**generation_record, "truncated": True}
    )
    for key in (G1, G2):
        layout.generation_prompts.mkdir(parents=True, exist_ok=True)
        text_path(layout.generation_prompts, key).write_text(f"prompt of {key}", "utf-8")
    rows = [["evaluation_task_id", "generation_task_id", "combo_id", "generation_template",
             "generation_model", "evaluation_template", "evaluation_model", "score", "error",
             "score_line", "evaluation_replicate", "state", "generation_state"]]  # fmt: skip
    scores = {
        (G1, JUDGES[0]): ("7.0", ""),
        (G1, JUDGES[1]): ("", "no 'SCORE' line found"),
        (G2, JUDGES[0]): ("3.5", ""),
        (G2, JUDGES[1]): ("", "no evaluation response"),
    }
    for (gen, judge), (score, error) in scores.items():
        key = f"{gen}_daydreaming_loop_rubric_{judge}"
        state = "to do" if "no evaluation" in error else "done"
        if state == "done":
            answer = f"Reasoning of {judge}.\nSCORE: {score or 'N/A'}"
            record = {"provider": "Google", "prompt_tokens": 1200, "cost_usd": 0.0003}
            store(layout.evaluation_responses, key, answer, record)
        rows.append([key, gen, gen[:9], "00_systematic_analytical", "deepseek/deepseek-r1:free",
                     "daydreaming_loop_rubric", judge, score, error, f"SCORE: {score}" if score
                     else "", "1", state, "done"])  # fmt: skip
    write_csv(layout.parsing / "parsed_scores.csv", rows)
    failed = f"{G2}_daydreaming_loop_rubric_{JUDGES[1]}"
    (layout.parsing / "failed_tasks.json").write_text(
        json.dumps({"failures": {failed: "server_error: 503 after 6 attempts"}}), "utf-8"
    )
    layout.summary.mkdir(parents=True, exist_ok=True)
    (layout.summary / "summary_context.json").write_text(context().to_json(), "utf-8")
    write_csv(
        layout.summary / "by_generation_model.csv",
        [["evaluation_template", "generation_model", "mean", "ci95_low", "ci95_high"],
         ["daydreaming_loop_rubric", "deepseek/deepseek-r1:free", "5.25", "3.5", "7.0"]],
    )  # fmt: skip
    return layout


class Elements(HTMLParser):
    """Tables in document order, and the text of the elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self.texts: dict[str, str] = {}
        self._open: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"id": attrs.get("id"), "rows": []})
        if tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        if tag in ("td", "th"):
            self._cell = []
        if attrs.get("id"):
            self._open.append(attrs["id"])
            self.texts[attrs["id"]] = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1]["rows"][-1].append("".join(self._cell).strip())
            self._cell = None
        if tag in ("pre", "p", "h1", "td", "table", "span") and self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        for element in self._open[-1:]:
            self.texts[element] += data


def parse(path: Path) -> Elements:
    parser = Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def matrix_rows(folder: Path) -> list[dict]:
    text = (folder / "data" / "matrix.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("=") + 1 :].strip().rstrip(";"))["rows"]


def test_the_overview_starts_with_the_headline_verbatim(layout):
    write_csv(layout.summary / "headline.csv", HEADLINE)
    result = write_report(layout)
    for page in (result.index, result.run_folder / "index.html"):
        first = parse(page).tables[0]
        assert first["id"] == "headline"
        assert first["rows"] == HEADLINE  # every column and cell as written, nothing rounded
    tables = [t["id"] for t in parse(result.index).tables]
    assert "table-by-generation-model" in tables and tables[-2:] == ["run-context", "counts"]


def test_without_a_headline_the_first_table_says_it_is_not_available_yet(layout):
    result = write_report(layout)
    first = parse(result.index).tables[0]
    assert first["id"] == "headline"
    assert "Not available yet" in first["rows"][0][0]


def test_matrix_rows_flags_and_score_cells(layout):
    result = write_report(layout)
    rows = {row["id"]: row for row in matrix_rows(result.run_folder)}
    assert list(rows) == [G1, G2] and rows[G1]["concepts"] == ["a-concept", "b-concept"]
    # score columns are sorted (template, judge): deepseek-chat first, gemini second
    assert rows[G1]["s"] == ["no score", "7.0"] and rows[G1]["flags"] == ["unreadable"]
    assert rows[G2]["s"] == ["failed", "3.5"] and rows[G2]["flags"] == ["truncated", "failed"]
    counts = parse(result.index).tables[-1]["rows"]
    assert counts[1] == ["generations", "2", "0", "0", "0", "0"]
    assert counts[2] == ["evaluations", "3", "0", "1", "0", "0"]


def test_a_generation_page_shows_the_stored_answer_and_every_judgement(layout):
    result = write_report(layout)
    page = (
        result.run_folder
        / "generations"
        / "combo_001_00_systematic_analytical_deepseek%2Fdeepseek-r1%3Afree.html"
    )
    html = page.read_text(encoding="utf-8")
    elements = parse(page)
    # the HTML parser drops one newline right after <pre>: the page adds one, so the text is exact
    assert elements.texts["answer"][1:] == ANSWER_1
    assert elements.texts["prompt"][1:] == f"prompt of {G1}"
    scores = re.findall(
        r'class="judgement"[^>]*data-judge="([^"]+)"[^>]*data-score="([^"]*)"', html
    )
    assert scores == [(JUDGES[1], ""), (JUDGES[0], "7.0")]
    assert "no &#39;SCORE&#39; line found" in html and "Chutes" in html and "2.50 s" in html


def test_no_address_outside_the_report(layout):
    write_report(layout)
    for path in layout.report.rglob("*"):
        if path.suffix in (".html", ".js"):
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), path
            assert not re.search(r"\bfetch\(|XMLHttpRequest", text), path


def test_runs_are_kept_apart_and_listed_with_their_figures(layout):
    first = write_report(layout)
    write_csv(layout.summary / "headline.csv", HEADLINE)
    later = context("2026-12-02T09:30:00+00:00")
    (layout.summary / "summary_context.json").write_text(later.to_json(), "utf-8")
    cohort = layout.cohorts / "cohort-7"
    cohort.mkdir(parents=True)
    (cohort / "manifest.json").write_text(json.dumps({"id": "cohort-7", "git_commit": "abc123"}))
    (cohort / "summary_context.json").write_text(later.to_json(), "utf-8")
    old_cohort = layout.cohorts / "cohort-3"
    old_cohort.mkdir()
    (old_cohort / "manifest.json").write_text(json.dumps({"id": "cohort-3"}))
    (old_cohort / "summary_context.json").write_text(context("2026-11-01T00:00:00").to_json())
    write_csv(old_cohort / "headline.csv", [HEADLINE[0], [HEADLINE[1][0], "0.5", "0.4", "0.6"]])
    second = write_report(layout)
    assert first.run_id == "run-20261201-100000" and second.run_id == "run-20261202-093000"
    assert (first.run_folder / "index.html").exists() and (
        second.run_folder / "index.html"
    ).exists()
    runs = parse(layout.report / "runs.html").tables[0]["rows"]
    assert [row[0].split()[0] for row in runs[1:]] == [second.run_id, first.run_id, "cohort-3"]
    assert runs[1][2].startswith("cohort-7") and runs[1][-1] == "12% [5%, 25%]"
    assert runs[3][-1] == "50% [40%, 60%]"
    assert runs[2][-1].startswith("5.25 [3.50, 7.00]")  # before a headline: the rubric's mean


def test_an_unchanged_run_folder_is_kept_when_asked(layout):
    first = write_report(layout)
    again = write_report(layout, reuse_current=True)
    assert not again.rewritten and again.run_id == first.run_id
    assert write_report(layout).rewritten
    write_csv(layout.summary / "headline.csv", HEADLINE)  # written after the report: redone
    late = write_report(layout, reuse_current=True)
    assert late.rewritten and parse(late.run_folder / "index.html").tables[0]["rows"] == HEADLINE


def test_without_a_task_table_the_error_says_what_to_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="daydreaming run"):
        write_report(DataLayout(tmp_path / "data"))


def test_headline_figures_and_number_formats():
    label, figures = headline_figures(Headline(HEADLINE[0], HEADLINE[1:]))
    assert label == "reinvention_rate" and figures == {HEADLINE[1][0]: "12% [5%, 25%]"}
    assert headline_figures(Headline(["model", "share"], [["m", "n/a"]]))[1] == {"m": "n/a"}
    assert format_number("4.933333") == ("4.93", True)
    assert format_number("0.00031") == ("0.00031", True)
    assert format_number("12") == ("12", True) and format_number("combo_001") == (
        "combo_001",
        False,
    )
    assert run_id_for(None) == "run-unsummarised"
