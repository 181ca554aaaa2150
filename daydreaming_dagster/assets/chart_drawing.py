"""Drawing the summary step's charts: beside the tables in a forked process while the experiment
is small, in the step itself once it is large.

Drawing the four charts takes about 0.8 s whatever the experiment's size, on one core, while the
other core is idle: at the default experiment's size that was a tenth of the whole run. A forked
child draws them while this process computes the tables and the report. But the child copies
every page of the parent's heap that it touches, and that copy grows with the heap: it was the
run's memory peak at 24,750 calls (126 MB). So the fork is kept for experiments whose scores
table is at most ``FORK_MAX_SCORE_ROWS`` rows, where the copy is small and the 0.8 s matters;
above it, the same 0.8 s is under 1% of the run and the charts are drawn in place.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from ..records.fork_memory import FrozenHeap

# The default experiment has 600 score rows, 9 concepts 5,040, 12 concepts 19,800.
FORK_MAX_SCORE_ROWS = 2_000


def draw_charts(scores: pd.DataFrame) -> dict[str, bytes]:
    """Every chart as PNG bytes, by name."""
    from ..experiment.charts import CHARTS  # matplotlib: imported only when drawing (~0.4 s)
    from ..experiment.forest_charts import paired_comparisons_forest

    drawn = {name: draw(scores) for name, draw in CHARTS.items()}
    drawn["paired_model_comparisons"] = paired_comparisons_forest(scores)
    return drawn


def forks_for(scores: pd.DataFrame) -> bool:
    """Whether ``drawing`` draws ``scores`` in a forked process (see the module)."""
    return len(scores) <= FORK_MAX_SCORE_ROWS and "fork" in multiprocessing.get_all_start_methods()


@contextlib.contextmanager
def drawing(scores: pd.DataFrame) -> Iterator[Callable[[], dict[str, bytes]]]:
    """Start drawing the charts; the context gives a function that waits for them.

    For a small experiment the charts are drawn in a forked process (it only draws; it touches
    no file and no database), so the step takes the longer of drawing and the tables instead of
    their sum; otherwise they are drawn when the function is called. Leaving the context (also
    on an error) ends the drawing process and unfreezes the heap."""
    if not forks_for(scores):
        yield lambda: draw_charts(scores)
        return
    frozen = FrozenHeap()  # until the drawing process is gone (see fork_memory)
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    try:
        future = pool.submit(draw_charts, scores)  # forks the drawing process
        yield future.result
    finally:
        pool.shutdown(cancel_futures=True)
        frozen.thaw()
