"""Letting go of the outputs Dagster keeps from an in-process run (private Dagster API).

``execute_in_process`` records every step's output value in a dict that its result and the run's
step contexts share, so that ``output_for_node`` can return them. The project never reads them
back (each output is in its IO manager's file), and they can be large: the setup run's outputs
are every task table, 21 MB at 24,750 calls and proportional to the experiment. Dropping the
result is not enough to free them: Dagster's record classes compile their constructor on first
use and keep the calling frame's names in that function's globals for the life of the process,
among them a step context of the first run that built one, with the shared dict. Emptying the
dict frees the values whatever still holds it.
"""

from __future__ import annotations

from dagster import ExecuteInProcessResult


def drop_outputs(result: ExecuteInProcessResult) -> None:
    """Empty ``result``'s captured outputs (``output_for_node`` then finds none)."""
    captured = getattr(result, "_output_capture", None)
    if isinstance(captured, dict):
        captured.clear()
