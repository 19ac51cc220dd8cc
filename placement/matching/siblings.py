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

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from placement.matching import cpsat
from placement.matching.arrays import Ints
from placement.matching.groups import GroupOption
from placement.matching.limits import Deadline


@dataclass(frozen=True, slots=True)
class Proposal:
    sites: list[GroupOption | None] | None
    """Per group: its site, or None; None if no choice of sites can beat the floor, or if CP-SAT
    stopped before finding one."""
    bound: int | None
    """No plan is worth more (the floor itself when nothing beats it); None when CP-SAT stopped
    before it proved anything."""
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

    def propose(self, floor: int, effort: float, deadline: Deadline) -> Proposal:
        """The sites that the cuts value most, among those valued above ``floor`` (which stays:
        floors only rise, with the best plan)."""
        self.model.add(self.value >= floor + 1)
        solved = cpsat.solve(self.model, effort, deadline)
        if solved.infeasible:
            return Proposal(None, floor, solved.effort)
        if not solved.found:
            return Proposal(None, None, solved.effort)
        sites = [
            next((o for o, z in zip(listed, row, strict=True) if solved.solver.boolean_value(z)), None)
            for listed, row in zip(self.options, self.chosen, strict=True)
        ]
        return Proposal(sites, solved.bound, solved.effort)
