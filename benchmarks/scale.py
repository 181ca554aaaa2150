"""Scale table: ``daydreaming run`` at 750 / 6,300 / 24,750 model calls, and storage / workers.

Usage (from the repository root)::

    uv run python benchmarks/scale.py                      # 6, 9 and 12 concepts at k=4, SQLite
    uv run python benchmarks/scale.py --concepts 6,12      # a subset of the sizes
    uv run python benchmarks/scale.py --postgres           # the same on PostgreSQL as well
    uv run python benchmarks/scale.py --workers-latency 0.2  # 1 against 2 workers at 0.2 s

Each size runs in a fresh temporary project whose concept file holds the six shipped concepts
plus synthetic ones (``scale-concept-NN``), so every size has the default experiment's shape:
k=4, 5 generation templates, 2 generators, 2 judges x 2 evaluation templates. After the largest
size the same command runs again and must make no call. Figures: wall time, time per call, peak
PSS summed over the run's process tree (see measure.py), calls the mock received.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import mock_endpoint
import report
import temp_project
from measure import Measurement, log_tail, run_measured

from daydreaming_dagster.local_postgres import LocalServer, create_database, server_binaries

CALLS_PER_COMBINATION = 5 * 2 * (1 + 2 * 2)  # templates x generators x (1 + judges x templates)
TARGET_MEMORY_GROWTH = 1.5
TARGET_PER_CALL_GROWTH = 1.2
TARGET_RERUN_S = 15.0


@dataclass
class SizeResult:
    concepts: int
    storage: str
    workers: int
    latency_s: float
    run: Measurement
    expected_calls: int

    @property
    def per_call_ms(self) -> float:
        return 1000 * self.run.wall_s / max(self.expected_calls, 1)


def add_synthetic_concepts(project: Path, total: int) -> None:
    """Grow the project's concept file to ``total`` concepts (the shipped ones first)."""
    path = project / "data" / "01_raw" / "concepts" / "day_dreaming_concepts.json"
    document = json.loads(path.read_text("utf-8"))
    concepts = document["concepts"]
    template = concepts[0]
    for number in range(len(concepts) + 1, total + 1):
        concept_id = f"scale-concept-{number:02d}"
        descriptions = {
            level: f"Synthetic concept {number} ({level}). " + text[:400]
            for level, text in template["descriptions"].items()
        }
        concepts.append(
            {**template, "concept_id": concept_id, "name": concept_id, "descriptions": descriptions}
        )
    document["concepts"] = concepts[:total]
    path.write_text(json.dumps(document, indent=1), "utf-8")


def expected_calls(concepts: int, k: int = 4) -> int:
    return math.comb(concepts, k) * CALLS_PER_COMBINATION


def measure_size(
    scratch: Path,
    concepts: int,
    *,
    latency_s: float = 0.0,
    postgres: str | None = None,
    workers: int = 1,
    rerun: bool = False,
    timeout_s: float = 3600.0,
) -> list[SizeResult]:
    storage = "postgres" if postgres else "sqlite"
    name = f"c{concepts}-{storage}-w{workers}-l{latency_s:g}"
    postgres_url = (
        create_database(postgres, "scale_" + name.replace("-", "_").replace(".", "_"))
        if postgres
        else None
    )
    project = temp_project.make_project(scratch, name)
    add_synthetic_concepts(project, concepts)
    server = mock_endpoint.start_mock(latency_s)
    results = []
    try:
        env = temp_project.base_env(server.base_url)
        if postgres_url:
            env["DAYDREAMING_POSTGRES_URL"] = postgres_url
        command = temp_project.run_command(project, temp_project.Selection())
        if workers > 1:
            command += ["--workers", str(workers)]
        labels = [name] + ([f"{name}-rerun"] if rerun else [])
        for label in labels:
            server.reset()
            log = scratch / f"{label}.log"
            run = run_measured(label, command, project, env, log, timeout_s)
            run.calls = server.request_count
            run.peak_in_flight = mock_endpoint.peak_in_flight(server)
            expected = 0 if label.endswith("-rerun") else expected_calls(concepts)
            results.append(SizeResult(concepts, storage, workers, latency_s, run, expected))
            status = "ok" if run.exit_code == 0 else f"EXIT {run.exit_code}"
            print(
                f"  {label}: {run.wall_s:.1f} s, {run.calls} calls, "
                f"{run.peak_tree_pss_mb:.0f} MB PSS, {status}",
                flush=True,
            )
            if run.exit_code != 0:
                print("    " + "\n    ".join(log_tail(log)), flush=True)
    finally:
        server.stop()
    return results


def render(results: list[SizeResult]) -> str:
    lines = [
        "| concepts | storage | workers | latency | calls | wall | per call | peak PSS | exit |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.concepts} | {r.storage} | {r.workers} | {r.latency_s:g} s | {r.run.calls} "
            f"| {r.run.wall_s:.1f} s | {r.per_call_ms:.2f} ms | {r.run.peak_tree_pss_mb:.0f} MB "
            f"| {r.run.exit_code} |"
        )
    return "\n".join(lines)


def verdicts(results: list[SizeResult]) -> list[str]:
    """The issue's targets, judged on the SQLite runs at zero latency."""
    base = [r for r in results if r.storage == "sqlite" and r.workers == 1 and not r.latency_s]
    full = [r for r in base if r.expected_calls]
    reruns = [r for r in base if not r.expected_calls]
    if len(full) < 2:
        return []
    small, large = min(full, key=lambda r: r.concepts), max(full, key=lambda r: r.concepts)
    growth = large.run.peak_tree_pss_mb / small.run.peak_tree_pss_mb
    per_call = large.per_call_ms / small.per_call_ms
    lines = [
        f"peak PSS {large.run.calls} calls / {small.run.calls} calls: {growth:.2f}x "
        f"(target <= {TARGET_MEMORY_GROWTH}) "
        f"{'PASS' if growth <= TARGET_MEMORY_GROWTH else 'FAIL'}",
        f"time per call {large.run.calls} / {small.run.calls}: {per_call:.2f}x "
        f"(target <= {TARGET_PER_CALL_GROWTH}) "
        f"{'PASS' if per_call <= TARGET_PER_CALL_GROWTH else 'FAIL'}",
    ]
    for r in reruns:
        ok = r.run.wall_s <= TARGET_RERUN_S and r.run.calls == 0
        lines.append(
            f"re-run of {r.concepts} concepts: {r.run.wall_s:.1f} s, {r.run.calls} calls "
            f"(target <= {TARGET_RERUN_S:g} s, 0 calls) {'PASS' if ok else 'FAIL'}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concepts", default="6,9,12", help="concept counts (default 6,9,12)")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="also run each size on PostgreSQL (a throw-away server from the machine's "
        "PostgreSQL programs, see daydreaming_dagster/local_postgres.py)",
    )
    parser.add_argument(
        "--workers-latency",
        type=float,
        metavar="S",
        help="also run 6 concepts with 1 and with 2 workers at this mock latency",
    )
    parser.add_argument("--keep-temp", action="store_true")
    args = parser.parse_args(argv)
    mock_endpoint.widen_listen_backlog()
    sizes = sorted(int(n) for n in args.concepts.split(","))
    scratch = temp_project.scratch_folder()
    results: list[SizeResult] = []
    print(report.render_machine(report.machine_info()), flush=True)
    server = None
    try:
        if args.postgres:
            binaries = server_binaries()
            if binaries is None:
                print("No PostgreSQL programs (apt-get install postgresql).", file=sys.stderr)
                return 2
            server = LocalServer(binaries)
            server.start()
        for size in sizes:
            results += measure_size(scratch, size, rerun=size == sizes[-1])
        if server is not None:
            for size in sizes:
                results += measure_size(scratch, size, postgres=server.url)
        if args.workers_latency is not None:
            for workers in (1, 2):
                results += measure_size(
                    scratch,
                    6,
                    latency_s=args.workers_latency,
                    workers=workers,
                    postgres=server.url if server else None,
                )
    finally:
        if server is not None:
            server.stop()
        if not args.keep_temp:
            shutil.rmtree(scratch, ignore_errors=True)
    print()
    print(render(results))
    judged = verdicts(results)
    print("\n".join(judged))
    failed = any(r.run.exit_code for r in results) or any(line.endswith("FAIL") for line in judged)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
