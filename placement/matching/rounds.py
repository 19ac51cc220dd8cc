"""Sibling groups by Benders rounds: sites for the groups, the flow places everyone else around
them, and its prices cut the site master (``siblings``), until the master finds no sites that
could beat the best plan or the budget is spent; then settling (``settle``) if a gap is left.

The rounds start from the better of the greedy plan and the youth without siblings placed alone,
whatever the budget or the clock: no answer is worse than the greedy baseline, and the master's
first sites must beat it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from placement.matching.arrays import Bools, Int32s, Ints
from placement.matching.flow import FlowSolution, relaxed_solution, tight_arcs
from placement.matching.greedy import greedy_plan
from placement.matching.groups import GroupOption, all_group_options, seat, site_room
from placement.matching.limits import FLOW_ARCS_PER_EFFORT, Deadline
from placement.matching.problem import PairTable, Problem
from placement.matching.settle import Lagrangian, Plan, lagrangian, settle
from placement.matching.siblings import SiteMaster

GROUP_ROUNDS = 40

Sites = list[GroupOption | None]
"""Per group: its site, or None."""


def place_groups(
    problem: Problem,
    w: Ints,
    worth: Ints,
    individual: Bools,
    flow: FlowSolution,
    effort: float,
    deadline: Deadline,
) -> tuple[Plan, int]:
    """The best plan found for everyone, and a proven bound on any plan. ``flow`` is the youth
    without siblings placed alone."""
    options = all_group_options(problem)
    start = max(
        Plan(flow.assigned, flow.value),
        _valued(greedy_plan(problem, options), problem.pairs, w),
        key=lambda plan: plan.value,
    )
    rounds = _Rounds(problem, w, worth, individual, options, flow, start)
    for _ in range(GROUP_ROUNDS):
        if rounds.spent >= effort or deadline.reached():
            break
        sites = rounds.proposal(effort - rounds.spent, deadline)
        if sites is None:
            break
        rounds.around(sites)
    return settle(problem, w, individual, options, rounds.best, rounds.bound, rounds.cuts, effort, deadline)


def _valued(assigned: Int32s, pairs: PairTable, w: Ints) -> Plan:
    """A plan (target per youth, or -1) with its value: the values of the pairs it uses."""
    ys = np.flatnonzero(assigned >= 0).astype(np.int32)
    return Plan(assigned, int(w[pairs.find(ys, assigned[ys])].sum()))


class _Rounds:
    """The best plan so far, the least bound, the cuts met and the sites tried; ``flow`` places
    the youth without siblings alone, and its prices make the first cuts."""

    def __init__(
        self,
        problem: Problem,
        w: Ints,
        worth: Ints,
        individual: Bools,
        options: Sequence[Sequence[GroupOption]],
        flow: FlowSolution,
        best: Plan,
    ) -> None:
        self.problem, self.w, self.worth, self.individual = problem, w, worth, individual
        self.options = options
        self.flow = flow
        self.best = best
        first = [self._lagrangian(prices) for prices in (flow.prices, flow.high_prices)]
        self.bound = min(cut.bound for cut in first)
        targets = problem.targets
        self.master = SiteMaster(options, site_room(targets, targets.capacity), self.bound)
        self.cuts: list[Lagrangian] = []
        for cut in first:
            self._add(cut)
        self.tried: list[Sites] = []
        self.arcs = np.zeros(len(problem.pairs), dtype=np.bool_)
        self.spent = 0.0

    def around(self, sites: Sites) -> None:
        """Place everyone else around these sites; keep the plan if it is the best yet, and cut
        the master with the flow's prices."""
        self.tried.append(sites)
        pairs, capacity = self.problem.pairs, self.problem.targets.capacity
        left, seated = _seated(sites, capacity, len(self.individual))
        start = self.arcs | tight_arcs(pairs, self.w, self.individual, self.flow.prices)
        self.flow = relaxed_solution(pairs, self.w, self.individual, left, start, tolerance=0.0)
        self.arcs = self.flow.arcs
        self.spent += self.flow.work / FLOW_ARCS_PER_EFFORT
        value = self.flow.value + sum(
            int(self.worth[list(s.members)].sum()) + s.score for s in sites if s is not None
        )
        if value > self.best.value:
            self.best = Plan(np.where(self.individual, self.flow.assigned, seated), value)
        self._add(self._lagrangian(self.flow.prices))

    def proposal(self, effort: float, deadline: Deadline) -> Sites | None:
        """The master's next sites, given distinct beds; None when it finds none that could beat
        the best plan, stops before finding any, or proposes sites already tried."""
        proposal = self.master.propose(self.best.value, effort, deadline)
        self.spent += proposal.effort
        if proposal.bound is not None:
            self.bound = min(self.bound, proposal.bound)
        if proposal.sites is None:
            return None
        sites = seat(proposal.sites, self.problem.pairs, self.problem.targets)
        return None if sites in self.tried else sites

    def _lagrangian(self, prices: Ints) -> Lagrangian:
        return lagrangian(self.problem, self.w, self.worth, self.individual, self.options, prices)

    def _add(self, cut: Lagrangian) -> None:
        self.cuts.append(cut)
        self.master.cut(cut.base, cut.group_priced)
        self.bound = min(self.bound, cut.bound)


def _seated(sites: Sites, capacity: Int32s, n_youth: int) -> tuple[Int32s, Int32s]:
    """The capacity the seated groups leave, and the target of each of their members (else -1)."""
    left = capacity.copy()
    assigned = np.full(n_youth, -1, dtype=np.int32)
    for site in (s for s in sites if s is not None):
        np.subtract.at(left, list(site.targets), 1)
        assigned[list(site.members)] = site.targets
    return left, assigned
