import multiprocessing
from itertools import pairwise

import pytest

from .parallel_judging import ChunkQueue, ChunkResults, chunk_slices, judge_chunks
from .run_reports import StageReport


@pytest.mark.parametrize("count", [1, 2, 49, 50, 120, 300, 599, 600, 601, 6001])
def test_chunks_cover_every_key_once_in_order(count):
    slices = chunk_slices(count)
    assert slices[0].start == 0 and slices[-1].stop == count
    assert all(a.stop == b.start for a, b in pairwise(slices))
    assert all(s.stop > s.start for s in slices)


def test_chunks_are_largest_at_both_ends():
    sizes = [s.stop - s.start for s in chunk_slices(600, chunks=6)]
    assert sizes == [150, 100, 50, 50, 100, 150]


def test_the_default_is_two_halves():
    assert chunk_slices(600) == [slice(0, 300), slice(300, 600)]


def test_small_selections_are_one_chunk():
    assert chunk_slices(48) == [slice(0, 48)]
    assert chunk_slices(0) == []


def test_both_ends_meet_and_every_chunk_is_taken_once():
    queue = ChunkQueue(multiprocessing.get_context())
    queue.fill(5)
    taken = [queue.take_front(), queue.take_back(), queue.take_front(), queue.take_back()]
    assert taken == [0, 4, 1, 3]
    assert queue.take_back() == 2
    assert queue.take_front() is None and queue.take_back() is None


def test_stop_hands_out_nothing_more():
    queue = ChunkQueue(multiprocessing.get_context())
    queue.fill(4)
    assert queue.take_front() == 0
    queue.stop()
    assert queue.take_front() is None and queue.take_back() is None


def test_a_rejected_key_stops_both_ends():
    queue = ChunkQueue(multiprocessing.get_context())
    keys = [f"k{i}" for i in range(600)]
    queue.fill(len(chunk_slices(len(keys))))
    judged = []

    def judge(chunk):
        judged.append(chunk)
        return StageReport("evaluation", failures={chunk[0]: "rejected_key: HTTP 401"})

    results = judge_chunks(queue.take_front, queue, judge, keys)
    assert len(judged) == 1 and judged[0] == keys[:300]
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
