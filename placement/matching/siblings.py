"""CP-SAT settles where sibling groups go, the other youth summed up by Benders cuts.

Each group takes one of its sites or none; groups compete with each other directly, through the
free slots of each site. Placing everyone else around a choice of sites is a transportation
problem whose value, as a function of the slots the groups leave, is concave: any target prices
``v`` bound it by ``sum_y u_y(v) + sum_t c_t v_t``, with equality at the choice whose flow gave
``v``. So each price vector is a *cut*: the plan is worth at most ``base + sum_o priced_o z_o``,
where ``priced_o`` is option ``o``'s value minus the prices of the slots it takes. The model
holds only the groups and the cuts, so CP-SAT settles it exactly; its optimum bounds the whole
problem, and it meets the best plan once the cuts are tight where it matters.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from placement.matching.arrays import Ints
from placement.matching.groups import GroupOption


def integral_bound(best_objective_bound: float) -> int:
    """CP-SAT's best bound as an integer: the objective's coefficients are integers, so no solution
    exceeds its floor (its LP part may be fractional; rounding it up overstated the bound by one).
    The hair of tolerance absorbs float error and can only loosen the bound."""
    return math.floor(best_objective_bound + 1e-6)


@dataclass(frozen=True, slots=True)
class Proposal:
    sites: list[GroupOption | None] | None
    """Per group: its site, or None; None if no choice of sites can beat the floor."""
    bound: int
    """No plan is worth more (the floor itself when nothing beats it)."""
    effort: float
    """CP-SAT's deterministic time spent."""


class SiteMaster:
    """The groups' site choice, the rest of the problem bounded by cuts."""

    def __init__(self, options: Sequence[Sequence[GroupOption]], room: Ints, ceiling: int) -> None:
        self.model = cp_model.CpModel()
        self.options = options
        self.chosen = [[self.model.new_bool_var("") for _ in listed] for listed in options]
        load: dict[int, list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
        for listed, row in zip(options, self.chosen, strict=True):
            self.model.add_at_most_one(row)
            for option, z in zip(listed, row, strict=True):
                load[option.site].append((z, len(option.members)))
        for site, terms in sorted(load.items()):
            if sum(n for _, n in terms) > room[site]:
                self.model.add(sum(n * z for z, n in terms) <= int(room[site]))
        self.value = self.model.new_int_var(0, ceiling, "value")
        self.model.maximize(self.value)

    def cut(self, base: int, priced: Sequence[Sequence[int]]) -> None:
        """The plan is worth at most ``base`` plus the priced values of the options taken."""
        terms = [
            p * z
            for row, values in zip(self.chosen, priced, strict=True)
            for z, p in zip(row, values, strict=True)
        ]
        self.model.add(self.value <= base + sum(terms))

    def propose(self, floor: int, effort: float, seconds: float) -> Proposal:
        """The sites that the cuts value most, among those valued above ``floor`` (which stays:
        floors only rise, with the best plan)."""
        self.model.add(self.value >= floor + 1)
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.linearization_level = 2
        solver.parameters.max_deterministic_time = effort
        solver.parameters.max_time_in_seconds = max(0.05, seconds)
        status = solver.solve(self.model)
        spent = solver.response_proto.deterministic_time
        if status == cp_model.INFEASIBLE:
            return Proposal(None, floor, spent)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return Proposal(None, integral_bound(solver.best_objective_bound), spent)
        sites = [
            next((o for o, z in zip(listed, row, strict=True) if solver.boolean_value(z)), None)
            for listed, row in zip(self.options, self.chosen, strict=True)
        ]
        return Proposal(sites, integral_bound(solver.best_objective_bound), spent)
