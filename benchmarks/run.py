"""Benchmark ``daydreaming run`` against Inspect AI on the same workload and the same mock server.

Usage (from the repository root)::

    uv run python benchmarks/run.py                 # full experiment (750 calls), latency 1.0 s
    uv run python benchmarks/run.py --quick         # 12 generation tasks, for a fast check
    uv run python benchmarks/run.py --latency 0.5 --skip-inspect

Every figure is a ratio or a count measured within this one invocation, so results from
different machines are comparable. See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mock_endpoint
import report
import temp_project
from inspect_env import InspectEnvironmentError, inspect_python
from measure import Measurement, log_tail, run_measured
from report import Row, at_least, at_most, fmt
from temp_project import Selection

from daydreaming_dagster.mock_llm_server import MockLLMServer

BENCH_DIR = Path(__file__).resolve().parent
QUICK_SELECTION = Selection(
    k_max=2,
    concepts=("dearth-ai-discoveries", "default-mode-network", "human-creativity-insight"),
    templates=("00_systematic_analytical", "02_problem_solving"),
)
SINGLE_PARTITION_RUNS = 3
INSPECT_MAX_CONNECTIONS = 16
TARGET_FULL_RATIO = 3.0
TARGET_RERUN_RATIO = 1.5
TARGET_CONCURRENCY = 20.0
TARGET_MEMORY_MB = 1024.0
BUSY_LOAD = 1.0  # 1-minute load average above which we warn that timings are contaminated


class BenchmarkError(RuntimeError):
    """An untimed preparation step failed; the benchmark cannot produce meaningful figures."""


@dataclass
class Bench:
    """Shared state of one benchmark invocation: servers, scratch space and what was measured."""

    scratch: Path
    fast: MockLLMServer
    slow: MockLLMServer
    latency_s: float
    timeout_s: float
    selection: Selection
    measurements: dict[str, Measurement] = field(default_factory=dict)
    overflows: dict[str, int | None] = field(default_factory=dict)
    signatures: dict[str, Counter[tuple[str, str, object, object]]] = field(default_factory=dict)
    tails: dict[str, list[str]] = field(default_factory=dict)
    inspect_max_connections: int = INSPECT_MAX_CONNECTIONS

    def measure(
        self, label: str, command: list[str], cwd: Path, server: MockLLMServer
    ) -> Measurement:
        """Time one command against ``server``, counting the model calls it made."""
        server.reset()
        before = mock_endpoint.listen_overflows()
        env = temp_project.base_env(server.base_url)
        log = self.scratch / f"{label}.log"
        result = run_measured(label, command, cwd, env, log, self.timeout_s)
        result.calls = server.request_count
        result.peak_in_flight = mock_endpoint.peak_in_flight(server)
        after = mock_endpoint.listen_overflows()
        self.overflows[label] = None if before is None or after is None else after - before
        self.signatures[label] = mock_endpoint.request_signatures(server)
        self.measurements[label] = result
        self.tails[label] = log_tail(log)
        status = "ok" if result.exit_code == 0 else f"EXIT {result.exit_code}"
        print(f"  {label}: {result.wall_s:.2f} s, {result.calls} calls, {status}", flush=True)
        if result.exit_code != 0:
            print("    " + "\n    ".join(self.tails[label]), flush=True)
        return result


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--latency", type=float, default=1.0, help="mock seconds per call for (c) (default 1.0)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a 12-generation subset instead of the full 150"
    )
    parser.add_argument("--skip-inspect", action="store_true", help="measure only our pipeline")
    parser.add_argument(
        "--inspect-max-connections",
        type=int,
        default=INSPECT_MAX_CONNECTIONS,
        help=f"Inspect's per-model limit (default {INSPECT_MAX_CONNECTIONS}: 4 models x 16 = 64 "
        "in flight, our endpoint cap)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds allowed per measured command"
    )
    parser.add_argument(
        "--keep-temp", action="store_true", help="keep the temporary projects and logs"
    )
    return parser.parse_args(argv)


def prepare(bench: Bench, name: str, commands: list[list[str]]) -> Path:
    """A fresh project with ``commands`` already run in it (untimed)."""
    project = temp_project.make_project(bench.scratch, name)
    env = temp_project.base_env(bench.fast.base_url)
    for number, command in enumerate(commands, start=1):
        log = bench.scratch / f"{name}-prepare-{number}.log"
        result = run_measured(f"{name}-prepare", command, project, env, log, bench.timeout_s)
        if result.exit_code != 0:
            raise BenchmarkError(f"{' '.join(command[:4])} failed:\n" + "\n".join(log_tail(log)))
    return project


def spread(items: list[str], count: int) -> list[str]:
    """``count`` items spread over the list (first, middle, last...), for varied partitions."""
    if len(items) <= count:
        return items
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]


def measure_single_partition(bench: Bench) -> tuple[Path, list[Measurement]]:
    """Seed steps 1-2 untimed, then seed step 3 timed on different partition keys."""
    print("Single-partition Dagster CLI runs (seed step 3):", flush=True)
    project = prepare(bench, "seeded", temp_project.seed_commands(bench.selection))
    keys = spread(temp_project.generation_task_ids(project), SINGLE_PARTITION_RUNS)
    runs = [
        bench.measure(
            f"single-partition-{n}",
            temp_project.single_partition_command(key),
            project,
            bench.fast,
        )
        for n, key in enumerate(keys, start=1)
    ]
    return project, runs


def measure_ours(bench: Bench) -> Path:
    """Full run, rerun in place, then a full run in a fresh project against the slow mock."""
    print("Our pipeline (daydreaming run):", flush=True)
    project = temp_project.make_project(bench.scratch, "ours-full")
    command = temp_project.run_command(project, bench.selection)
    bench.measure("ours-full", command, project, bench.fast)
    bench.measure("ours-rerun", command, project, bench.fast)
    slow_project = temp_project.make_project(bench.scratch, "ours-latency")
    slow_command = temp_project.run_command(slow_project, bench.selection)
    bench.measure("ours-latency", slow_command, slow_project, bench.slow)
    return project


def measure_inspect(bench: Bench, seeded: Path, python: str) -> None:
    """Inspect AI on the seeded project's tasks, against the same two mock servers, run by
    ``python`` (an environment of Inspect's own, see inspect_env)."""
    print("Inspect AI (benchmarks/inspect_workload.py):", flush=True)
    script = BENCH_DIR / "inspect_workload.py"
    for label, server in (("inspect-full", bench.fast), ("inspect-latency", bench.slow)):
        workdir = bench.scratch / label
        workdir.mkdir()
        command = [
            python,
            str(script),
            "--project",
            str(seeded),
            "--base-url",
            server.base_url,
            "--log-dir",
            str(workdir / "logs"),
            "--max-connections",
            str(bench.inspect_max_connections),
        ]
        bench.measure(label, command, workdir, server)


def same_requests(bench: Bench) -> dict[str, Any] | None:
    """Did both systems send the same (model, prompt, temperature, max_tokens) multiset?"""
    ours, theirs = bench.signatures.get("ours-full"), bench.signatures.get("inspect-full")
    if ours is None or theirs is None:
        return None
    matched = sum((ours & theirs).values())
    return {
        "ours": sum(ours.values()),
        "inspect": sum(theirs.values()),
        "identical_requests": matched,
        "same_workload": ours == theirs,
    }


def peak(runs: list[Measurement], attribute: str) -> float | None:
    return max((getattr(run, attribute) for run in runs), default=None)


def figures(bench: Bench, single: list[Measurement]) -> dict[str, Any]:
    """The headline numbers, each a count or a ratio within this run."""
    m = bench.measurements

    def wall(label: str) -> float | None:
        return m[label].wall_s if label in m else None

    def calls(label: str) -> int | None:
        return m[label].calls if label in m else None

    single_s = statistics.median(r.wall_s for r in single)
    ours_runs = [m[k] for k in ("ours-full", "ours-latency") if k in m]
    inspect_runs = [m[k] for k in ("inspect-full", "inspect-latency") if k in m]
    return {
        "single_partition_s": single_s,
        "full_run_s": wall("ours-full"),
        "full_ratio": report.ratio(wall("ours-full"), single_s),
        "rerun_s": wall("ours-rerun"),
        "rerun_ratio": report.ratio(wall("ours-rerun"), single_s),
        "rerun_calls": calls("ours-rerun"),
        "full_run_latency_s": wall("ours-latency"),
        "concurrency": report.effective_concurrency(
            calls("ours-latency"), bench.latency_s, wall("ours-latency"), wall("ours-full")
        ),
        "peak_pss_mb": peak(ours_runs, "peak_tree_pss_mb"),
        "peak_rss_mb": peak(ours_runs, "peak_tree_rss_mb"),
        "peak_maxrss_mb": peak(ours_runs, "peak_process_maxrss_mb"),
        "inspect_full_s": wall("inspect-full"),
        "inspect_latency_s": wall("inspect-latency"),
        "inspect_concurrency": report.effective_concurrency(
            calls("inspect-latency"), bench.latency_s, wall("inspect-latency"), wall("inspect-full")
        ),
        "inspect_peak_pss_mb": peak(inspect_runs, "peak_tree_pss_mb"),
        "inspect_peak_rss_mb": peak(inspect_runs, "peak_tree_rss_mb"),
        "inspect_peak_maxrss_mb": peak(inspect_runs, "peak_process_maxrss_mb"),
    }


def table_rows(bench: Bench, f: dict[str, Any], expected: int) -> list[Row]:
    m = bench.measurements
    latency = f"{bench.latency_s:g}"

    def calls_row(metric: str, ours: str, theirs: str) -> Row:
        ours_calls = m[ours].calls if ours in m else None
        theirs_calls = m[theirs].calls if theirs in m else None
        return Row(
            metric,
            fmt(ours_calls),
            fmt(theirs_calls),
            f"= {expected}",
            None if ours_calls is None else ours_calls == expected,
        )

    def exits(inspect: bool) -> str:
        codes = [str(r.exit_code) for k, r in m.items() if k.startswith("inspect") == inspect]
        return ", ".join(codes) if codes else "n/a"

    return [
        Row("single_partition_s (median of 3)", fmt(f["single_partition_s"], " s")),
        Row("full_run_s (latency 0)", fmt(f["full_run_s"], " s"), fmt(f["inspect_full_s"], " s")),
        Row(
            "(a) full_run_s / single_partition_s",
            fmt(f["full_ratio"]),
            fmt(report.ratio(f["inspect_full_s"], f["single_partition_s"])),
            f"<= {TARGET_FULL_RATIO:g}",
            at_most(f["full_ratio"], TARGET_FULL_RATIO),
        ),
        Row("rerun_s", fmt(f["rerun_s"], " s")),
        Row(
            "(b) rerun_s / single_partition_s",
            fmt(f["rerun_ratio"]),
            target=f"<= {TARGET_RERUN_RATIO:g}",
            passed=at_most(f["rerun_ratio"], TARGET_RERUN_RATIO),
        ),
        Row(
            "(b) model calls on rerun",
            fmt(f["rerun_calls"]),
            target="= 0",
            passed=None if f["rerun_calls"] is None else f["rerun_calls"] == 0,
        ),
        Row(
            f"full_run_latency_s (latency {latency} s)",
            fmt(f["full_run_latency_s"], " s"),
            fmt(f["inspect_latency_s"], " s"),
        ),
        Row(
            "(c) effective concurrency",
            fmt(f["concurrency"], digits=1),
            fmt(f["inspect_concurrency"], digits=1),
            f">= {TARGET_CONCURRENCY:g}",
            at_least(f["concurrency"], TARGET_CONCURRENCY),
        ),
        Row(
            "    peak calls in flight at the mock",
            fmt(m["ours-latency"].peak_in_flight if "ours-latency" in m else None),
            fmt(m["inspect-latency"].peak_in_flight if "inspect-latency" in m else None),
        ),
        Row(
            "(d) peak memory, process tree PSS (MB)",
            fmt(f["peak_pss_mb"], digits=0),
            fmt(f["inspect_peak_pss_mb"], digits=0),
            f"< {TARGET_MEMORY_MB:g}",
            None if f["peak_pss_mb"] is None else f["peak_pss_mb"] < TARGET_MEMORY_MB,
        ),
        Row(
            "    same, summed RSS (counts shared pages twice)",
            fmt(f["peak_rss_mb"], digits=0),
            fmt(f["inspect_peak_rss_mb"], digits=0),
        ),
        Row(
            "    largest single process (wait4 maxrss, MB)",
            fmt(f["peak_maxrss_mb"], digits=0),
            fmt(f["inspect_peak_maxrss_mb"], digits=0),
        ),
        calls_row("model calls, latency 0", "ours-full", "inspect-full"),
        calls_row(f"model calls, latency {latency} s", "ours-latency", "inspect-latency"),
        Row(
            "exit codes (each run)",
            exits(inspect=False),
            exits(inspect=True),
            "all 0",
            all(r.exit_code == 0 for r in m.values()),
        ),
        *report.versus_inspect_rows(f, latency),
    ]


def run_benchmark(args: argparse.Namespace) -> int:
    selection = QUICK_SELECTION if args.quick else Selection()
    widened = mock_endpoint.widen_listen_backlog()
    machine = report.machine_info()
    print(report.render_machine(machine), flush=True)
    scratch = temp_project.scratch_folder()
    fast, slow = mock_endpoint.start_mock(0.0), mock_endpoint.start_mock(args.latency)
    bench = Bench(scratch, fast, slow, args.latency, args.timeout, selection)
    bench.inspect_max_connections = args.inspect_max_connections
    load_before = os.getloadavg()[0]
    try:
        # Untimed, before anything is measured: Inspect in an environment of its own.
        inspect = None if args.skip_inspect else inspect_python(scratch)
        seeded, single = measure_single_partition(bench)
        generation_count, evaluation_count = temp_project.task_counts(seeded)
        expected = generation_count + evaluation_count
        print(
            f"Workload: {generation_count} generations + {evaluation_count} evaluations "
            f"= {expected} model calls",
            flush=True,
        )
        measure_ours(bench)
        if inspect is not None:
            measure_inspect(bench, seeded, inspect)
    except (BenchmarkError, InspectEnvironmentError) as exc:
        print(f"Benchmark aborted: {exc}", file=sys.stderr)
        return 2
    finally:
        fast.stop()
        slow.stop()
        if not args.keep_temp:
            shutil.rmtree(scratch, ignore_errors=True)
    f = figures(bench, single)
    rows = table_rows(bench, f, expected)
    record = {
        "machine": machine,
        "arguments": vars(args),
        "selection_flags": selection.cli_flags(),
        "expected_calls": expected,
        "load_average_before": load_before,
        "figures": f,
        "same_workload": same_requests(bench),
        "mock_listen_backlog_widened": widened,
        "listen_overflows": bench.overflows,
        "measurements": {k: v.to_json() for k, v in bench.measurements.items()},
        "output_tails": bench.tails,
        "scratch": str(scratch) if args.keep_temp else None,
    }
    publish(record, rows)
    return 0 if all(r.passed is not False for r in rows) else 1


def publish(record: dict[str, Any], rows: list[Row]) -> None:
    print()
    print(report.render_machine(record["machine"]))
    flags = " ".join(record["selection_flags"]) or "(default experiment)"
    print(f"Workload: {flags}; {record['expected_calls']} model calls per full run")
    print()
    print(report.render_table(rows))
    same = record["same_workload"]
    if same is not None:
        print(
            f"\nSame requests sent by both (model, prompt, temperature, max_tokens): "
            f"{same['identical_requests']} of {same['ours']} ours / {same['inspect']} Inspect"
        )
    if record["arguments"]["quick"]:
        print(
            "Note: with --quick the latency adds only a few seconds, about as much as run-to-run "
            "noise, so (c) is unreliable; judge it on the full run."
        )
    if record["load_average_before"] >= BUSY_LOAD:
        print(
            f"Warning: the 1-minute load average was {record['load_average_before']:.1f} when "
            "the runs started (other work, or a run that just ended); times may be inflated."
        )
    drops = {k: v for k, v in record["listen_overflows"].items() if v}
    if drops:
        print(f"Kernel listen-queue overflows during runs (connection retries): {drops}")
    path = report.write_json(record, rows)
    print(f"Results: {path}")


def main(argv: list[str] | None = None) -> int:
    return run_benchmark(parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
