import multiprocessing

import pytest

from .parallel_judging import (
    MAX_RUN_PARTITIONS,
    Assignment,
    ChunkQueue,
    ChunkResults,
    head_start_for,
    judge_chunks,
    split_in_two,
)
from .run_reports import StageReport


@pytest.mark.parametrize("head_start", [0, 75, 10_000])
@pytest.mark.parametrize("count", [1, 49, 99, 100, 101, 600, 6001])
def test_the_parts_cover_every_key_once_in_order(count, head_start):
    parts = split_in_two(count, head_start)
    assert parts[0].start == 0 and parts[-1].stop == count
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:], strict=False))
    assert all(p.stop - p.start >= min(50, count) for p in parts)


def test_without_generations_the_halves_are_equal():
    assert split_in_two(600) == [slice(0, 300), slice(300, 600)]


def test_the_judging_process_gets_more_while_the_other_one_generates():
    # 150 generations, plus 2 x 90 evaluations' worth of importing the summary's libraries
    assert split_in_two(600, head_start_for(150)) == [slice(0, 465), slice(465, 600)]
    assert split_in_two(600, head_start_for(5000)) == [slice(0, 550), slice(550, 600)]


def test_no_run_judges_more_than_the_bound():
    parts = split_in_two(19_800, head_start_for(4950))
    assert parts[0].start == 0 and parts[-1].stop == 19_800
    assert all(a.stop == b.start for a, b in zip(parts, parts[1:], strict=False))
    assert max(p.stop - p.start for p in parts) <= MAX_RUN_PARTITIONS
    assert len(parts) == 11  # front 12,465 in 7 runs, back 7,335 in 4


def test_small_selections_are_one_run():
    assert split_in_two(48) == [slice(0, 48)]
    assert split_in_two(0) == []


def test_both_ends_meet_and_every_chunk_is_taken_once():
    queue = ChunkQueue(multiprocessing.get_context(), 5)
    taken = [queue.take_front(), queue.take_back(), queue.take_front(), queue.take_back()]
    assert taken == [0, 4, 1, 3]
    assert queue.take_back() == 2
    assert queue.take_front() is None and queue.take_back() is None


def test_stop_hands_out_nothing_more():
    queue = ChunkQueue(multiprocessing.get_context(), 4)
    assert queue.take_front() == 0
    queue.stop()
    assert queue.take_front() is None and queue.take_back() is None


def test_a_rejected_key_stops_both_ends():
    keys = [f"k{i}" for i in range(600)]
    assignment = Assignment("run", keys, [], split_in_two(len(keys)))
    queue = ChunkQueue(multiprocessing.get_context(), len(assignment.chunks))
    judged = []

    def judge(chunk):
        judged.append(chunk)
        return StageReport(
            "evaluation",
            failures={chunk[0]: "rejected_key: HTTP 401"},
            failure_kinds={chunk[0]: "rejected_key"},
        )

    results = judge_chunks(queue.take_front, queue, judge, assignment)
    assert judged == [keys[:300]]
    assert queue.take_back() is None
    assert results.merged().failures == {"k0": "rejected_key: HTTP 401"}


def test_reports_of_both_processes_add_up():
    merged = ChunkResults(
        [
            StageReport("evaluation", materialized=3, called=2, reused=1, charged_usd=0.5),
            StageReport(
                "evaluation", run_ok=False, called=1, failures={"k": "server_error"}, error="e"
            ),
        ]
    ).merged()
    assert (merged.materialized, merged.called, merged.reused) == (3, 3, 1)
    assert merged.charged_usd == 0.5 and merged.failures == {"k": "server_error"}
    assert not merged.run_ok and merged.error == "e"
