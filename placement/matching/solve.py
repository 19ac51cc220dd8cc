"""Batch matching: place many youth jointly, urgency first and score second.

1. Every feasible pair and its score (vectorised), and each pair's value
   ``w = (urgency_base + urgency) * scale + score``; ``scale`` exceeds any difference in total
   score, so more weighted placements always win and score only decides between equals.
2. The youth without siblings here are placed by min-cost flow over a pruned set of pairs,
   pricing pruned pairs back in (``flow``): exact for them, and it yields target prices.
3. Sibling groups, by Benders decomposition (``siblings``): CP-SAT chooses one site per group,
   or none, valuing everyone else by cuts, one per price vector met (the individual youth's best
   priced values plus the prices of all capacity: a Lagrangian relaxation of capacity, exact at
   the sites whose flow gave the prices). The flow places everyone else around the chosen sites
   and its prices make the next cut, until CP-SAT finds no sites that could beat the best plan:
   then that plan is optimal. CP-SAT's bound is the proven bound.
4. Settle (``settle``): when the budget ran out first, CP-SAT on the choices that could still
   beat the plan, which proves it optimal or improves it, when few enough remain.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from placement.matching.arrays import Bools, Int32s, Ints
from placement.matching.explain import no_matches
from placement.matching.flow import FlowSolution, relaxed_solution, tight_arcs
from placement.matching.groups import GroupOption, group_options, members_of, seat, site_room
from placement.matching.problem import PairTable, Problem
from placement.matching.schema import Batch
from placement.matching.score import assignments
from placement.matching.settle import Lagrangian, Plan, lagrangian, settle
from placement.matching.siblings import SiteMaster

ALL_PAIRS_UP_TO = 250_000
TARGETS_PER_YOUTH = 16
EXTRA_YOUTH_PER_TARGET = 5
GROUP_ROUNDS = 40
FLOW_ARCS_PER_EFFORT = 200_000
"""Arcs a min-cost flow gets through in about one unit of CP-SAT's deterministic time: how the
site rounds charge their flows to ``effort``."""
DEFAULT_EFFORT = 1.0
DEFAULT_SECONDS = 4.0


@dataclass(frozen=True, slots=True)
class Values:
    """What placing each youth, and each pair, is worth."""

    scale: int
    worth: Ints
    """Per youth: ``(urgency_base + urgency) * scale``."""
    w: Ints
    """Per feasible pair: its youth's worth plus the pair's score."""


def values(problem: Problem) -> Values:
    pairs = problem.pairs
    n = len(problem.youth)
    high = np.zeros(n, dtype=np.int64)
    low = np.zeros(n, dtype=np.int64)
    np.maximum.at(high, pairs.y, pairs.score)
    np.minimum.at(low, pairs.y, pairs.score)
    scale = int((high - low).sum()) + 1
    urgency = problem.youth.urgency.astype(np.int64) + problem.weights.urgency_base
    worth = urgency * scale
    return Values(scale=scale, worth=worth, w=worth[pairs.y] + pairs.score)


def prune(pairs: PairTable, w: Ints, capacity: Int32s) -> Bools:
    """The pairs the flow starts from: all of them for small problems; otherwise each youth's
    best targets, and each target's best-scoring youth beyond its capacity (so that targets
    outside everyone's favourites are still reachable)."""
    if len(pairs) <= ALL_PAIRS_UP_TO:
        return np.ones(len(pairs), dtype=np.bool_)
    keep = np.zeros(len(pairs), dtype=np.bool_)
    by_youth = np.lexsort((pairs.t, -w, pairs.y))
    rank = np.arange(len(pairs)) - pairs.start[pairs.y[by_youth]]
    keep[by_youth[rank < TARGETS_PER_YOUTH]] = True
    by_target = np.lexsort((pairs.y, -w, -pairs.score, pairs.t))
    t_sorted = pairs.t[by_target]
    rank = np.arange(len(pairs)) - np.searchsorted(t_sorted, t_sorted)
    keep[by_target[rank < capacity[t_sorted] + EXTRA_YOUTH_PER_TARGET]] = True
    return keep


def solve_batch(
    problem: Problem,
    *,
    effort: float = DEFAULT_EFFORT,
    seconds: float = DEFAULT_SECONDS,
    banded: bool = False,
) -> Batch:
    """Joint assignment of every youth of the problem. ``effort`` is CP-SAT's deterministic time
    budget (roughly seconds), which keeps answers reproducible on any machine; ``seconds`` caps
    the wall time CP-SAT may take should a slow machine not reach ``effort`` in time."""
    started = time.perf_counter()
    pairs, youth, targets = problem.pairs, problem.youth, problem.targets
    v = values(problem)
    capacity = targets.capacity
    individual = youth.group < 0
    flow = relaxed_solution(pairs, v.w, individual, capacity, prune(pairs, v.w, capacity))
    plan, bound = Plan(flow.assigned, flow.value), flow.bound
    if youth.group_ids:
        members = members_of(youth.group, len(youth.group_ids))
        options = [group_options(g, m, pairs, targets) for g, m in enumerate(members)]
        plan, bound, cuts = _place_groups(
            problem, v, individual, options, flow, effort, seconds - (time.perf_counter() - started)
        )
        plan, bound = settle(
            problem,
            v.w,
            individual,
            options,
            plan,
            bound,
            cuts,
            effort,
            seconds - (time.perf_counter() - started),
        )
    return batch_result(problem, v, plan.assigned, bound, time.perf_counter() - started, banded=banded)


def batch_result(
    problem: Problem, v: Values, assigned: Int32s, bound: int, seconds: float, *, banded: bool = False
) -> Batch:
    """The result record of an assignment (target per youth, or -1) and its bound."""
    youth, targets = problem.youth, problem.targets
    ys = np.flatnonzero(assigned >= 0).astype(np.int32)
    placed = assignments(youth, targets, ys, assigned[ys], problem.weights, banded=banded)
    priority = int(v.worth[ys].sum()) // v.scale
    score = sum(a.score for a in placed)
    objective = priority * v.scale + score
    unplaced = np.flatnonzero(assigned < 0)
    hopeless = unplaced[problem.pairs.start[unplaced] == problem.pairs.start[unplaced + 1]]
    return Batch(
        status="optimal" if bound == objective else "feasible",
        placed=len(placed),
        priority=priority,
        score=score,
        objective=objective,
        scale=v.scale,
        bound=bound,
        gap=(bound - objective) / bound if bound > 0 else 0.0,
        assignments=tuple(placed),
        unplaced=tuple(youth.youth[y].id for y in unplaced.tolist()),
        no_match=tuple(no_matches(youth, targets, hopeless.astype(np.int32), problem.weights, banded=banded)),
        seconds=round(seconds, 3),
    )


def _place_groups(
    problem: Problem,
    v: Values,
    individual: Bools,
    options: Sequence[Sequence[GroupOption]],
    flow: FlowSolution,
    effort: float,
    seconds: float,
) -> tuple[Plan, int, list[Lagrangian]]:
    """Benders: the master proposes sites for the groups, the flow places everyone else around
    them, and its prices cut the master, until the master finds no sites that could beat the
    best plan. The best plan, the least bound, and the cuts."""
    started = time.perf_counter()
    pairs, targets = problem.pairs, problem.targets
    capacity = targets.capacity
    cuts = [
        lagrangian(problem, v.w, v.worth, individual, options, prices)
        for prices in (flow.prices, flow.high_prices)
    ]
    bound = min(cut.bound for cut in cuts)
    master = SiteMaster(options, site_room(targets, capacity), bound)
    for cut in cuts:
        master.cut(cut.base, cut.group_priced)
    best = Plan(flow.assigned, flow.value)
    tried: list[list[GroupOption | None]] = []
    arcs, spent = np.zeros(len(pairs), dtype=np.bool_), 0.0
    for _ in range(GROUP_ROUNDS):
        proposal = master.propose(best.value, effort - spent, seconds - (time.perf_counter() - started))
        spent += proposal.effort
        bound = min(bound, proposal.bound)
        sites = None if proposal.sites is None else seat(proposal.sites, pairs, targets)
        if sites is None or sites in tried:
            break
        tried.append(sites)
        left, assigned_sites = _seated(sites, capacity, len(individual))
        start = arcs | tight_arcs(pairs, v.w, individual, flow.prices)
        flow = relaxed_solution(pairs, v.w, individual, left, start, tolerance=0.0)
        arcs, spent = flow.arcs, spent + flow.work / FLOW_ARCS_PER_EFFORT
        value = flow.value + sum(
            int(v.worth[list(s.members)].sum()) + s.score for s in sites if s is not None
        )
        if value > best.value:
            best = Plan(np.where(individual, flow.assigned, assigned_sites), value)
        cuts.append(lagrangian(problem, v.w, v.worth, individual, options, flow.prices))
        master.cut(cuts[-1].base, cuts[-1].group_priced)
        if spent >= effort or time.perf_counter() - started >= seconds:
            break
    return best, bound, cuts


def _seated(sites: Sequence[GroupOption | None], capacity: Int32s, n_youth: int) -> tuple[Int32s, Int32s]:
    """The capacity the seated groups leave, and the target of each of their members (else -1)."""
    left = capacity.copy()
    assigned = np.full(n_youth, -1, dtype=np.int32)
    for site in (s for s in sites if s is not None):
        np.subtract.at(left, list(site.targets), 1)
        assigned[list(site.members)] = site.targets
    return left, assigned
