"""CP-SAT as the engine runs it: one worker, so that a deterministic time budget gives the same
answer every time, under the solve's wall-clock cap, and its bound taken only when it holds."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ortools.sat.python import cp_model

from placement.matching.limits import Deadline

FOUND = (cp_model.OPTIMAL, cp_model.FEASIBLE)


def integral_bound(best_objective_bound: float) -> int:
    """CP-SAT's best bound as an integer: the objective's coefficients are integers, so no solution
    exceeds its floor (its LP part may be fractional; rounding it up overstated the bound by one).
    The hair of tolerance absorbs float error and can only loosen the bound."""
    return math.floor(best_objective_bound + 1e-6)


@dataclass(frozen=True, slots=True)
class Solved:
    solver: cp_model.CpSolver
    status: cp_model.CpSolverStatus
    effort: float
    """Deterministic time spent."""

    @property
    def found(self) -> bool:
        return self.status in FOUND

    @property
    def infeasible(self) -> bool:
        return self.status == cp_model.INFEASIBLE

    @property
    def bound(self) -> int | None:
        """The proven bound on the maximised objective; None when CP-SAT stopped before finding a
        solution, for then ``best_objective_bound`` bounds nothing (it reads 0)."""
        return integral_bound(self.solver.best_objective_bound) if self.found else None


def solve(model: cp_model.CpModel, effort: float, deadline: Deadline) -> Solved:
    """Solve within ``effort`` (deterministic time) and what is left before the deadline; not at
    all once the deadline has passed."""
    solver = cp_model.CpSolver()
    if deadline.reached():
        return Solved(solver, cp_model.UNKNOWN, 0.0)
    solver.parameters.num_workers = 1
    solver.parameters.linearization_level = 2
    solver.parameters.max_deterministic_time = effort
    solver.parameters.max_time_in_seconds = deadline.left()
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
        deadline.reached()  # remembered if it was the clock that stopped it
    return Solved(solver, status, solver.response_proto.deterministic_time)
