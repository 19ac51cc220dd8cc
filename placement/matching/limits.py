"""The engine's limits: how many proposals a ranking holds, and what a batch solve may spend (a
deterministic budget that decides the answer, and a wall-clock cap that is only a safety net).

``effort`` is CP-SAT's deterministic time (about a second of one core's work a unit), the flows of
the sibling rounds charged to it by the arcs they solve over: the same instance stops at the same
point, and so gives the same answer, on any machine however busy. ``seconds`` caps the wall time
in case a machine is far too slow to spend the budget; by default it is far above what the budget
takes at the bench's sizes, and a result it cut short says so (status ``time_limit``).

Nothing here imports NumPy or OR-Tools: the command line reads its defaults from this module.
"""

from __future__ import annotations

import time
from collections.abc import Callable

DEFAULT_PROPOSALS = 10
DEFAULT_EFFORT = 1.0
DEFAULT_SECONDS = 30.0
"""About ten times the wall time the default budget takes at 2,000 youth x 10,000 targets on a
quiet 2-core machine (see the bench figures in the README)."""
FLOW_ARCS_PER_EFFORT = 200_000
"""Arcs a min-cost flow gets through in about one unit of CP-SAT's deterministic time: how the
sibling rounds charge their flows to ``effort``."""

Clock = Callable[[], float]


class Deadline:
    """The wall-clock cap of one solve, and whether it cut a step short."""

    def __init__(self, seconds: float, clock: Clock = time.perf_counter) -> None:
        self.clock = clock
        self.at = clock() + seconds
        self.cut_short = False

    def left(self) -> float:
        return self.at - self.clock()

    def reached(self) -> bool:
        """Whether the cap is reached. Asked only where a step would stop because of it, so a
        yes is remembered: that step was cut short."""
        if self.clock() < self.at:
            return False
        self.cut_short = True
        return True
