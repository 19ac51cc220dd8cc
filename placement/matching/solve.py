"""Batch matching: place many youth jointly, urgency first and score second.

1. Every feasible pair and its score (vectorised), and each pair's value
   ``w = (urgency_base + urgency) * scale + score``; ``scale`` exceeds any difference in total
   score, so more weighted placements always win and score only decides between equals.
2. The youth without siblings here are placed by min-cost flow over a pruned set of pairs,
   pricing pruned pairs back in (``flow``): exact for them, and it yields target prices.
3. Sibling groups, by Benders rounds (``rounds``) from the greedy plan up, so that no answer is
   worse: CP-SAT chooses one site per group, or none, valuing everyone else by cuts, one per
   price vector met (the individual youth's best priced values plus the prices of all capacity:
   a Lagrangian relaxation of capacity, exact at the sites whose flow gave the prices). The flow
   places everyone else around the chosen sites and its prices make the next cut, until CP-SAT
   finds no sites that could beat the best plan: then that plan is optimal. The least cut, or
   CP-SAT's proven bound, is the bound.
4. Settle (``settle``): when the budget ran out first, CP-SAT on the choices that could still
   beat the plan, which proves it optimal or improves it, when few enough remain.

The budget (``limits``) is deterministic; the wall-clock cap only cuts a step short on a machine
far too slow to spend it, and the result's status says when it did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from placement.matching.arrays import Bools, Int32s, Ints
from placement.matching.explain import no_matches
from placement.matching.flow import relaxed_solution
from placement.matching.limits import DEFAULT_EFFORT, DEFAULT_SECONDS, Clock, Deadline
from placement.matching.problem import PairTable, Problem
from placement.matching.rounds import place_groups
from placement.matching.schema import Batch
from placement.matching.score import assignments

ALL_PAIRS_UP_TO = 250_000
TARGETS_PER_YOUTH = 16
EXTRA_YOUTH_PER_TARGET = 5


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
    spread = pairs.per_youth(np.maximum, pairs.score) - pairs.per_youth(np.minimum, pairs.score)
    scale = int(spread.sum()) + 1
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
    # Pairs come sorted by youth, then target, and lexsort is stable: ties keep that order.
    by_youth = np.lexsort((-w, pairs.y))
    rank = np.arange(len(pairs)) - pairs.start[pairs.y[by_youth]]
    keep[by_youth[rank < TARGETS_PER_YOUTH]] = True
    by_target = np.lexsort((-w, -pairs.score, pairs.t))
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
    clock: Clock = time.perf_counter,
) -> Batch:
    """Joint assignment of every youth of the problem. ``effort`` is the deterministic budget
    (roughly seconds of CP-SAT), which keeps answers reproducible on any machine; ``seconds`` caps
    the wall time, by ``clock``, should a machine be far too slow to spend the budget."""
    started = time.perf_counter()
    deadline = Deadline(seconds, clock)
    pairs, youth, targets = problem.pairs, problem.youth, problem.targets
    v = values(problem)
    capacity = targets.capacity
    individual = youth.group < 0
    flow = relaxed_solution(pairs, v.w, individual, capacity, prune(pairs, v.w, capacity))
    assigned, bound = flow.assigned, flow.bound
    if youth.group_ids:
        plan, bound = place_groups(problem, v.w, v.worth, individual, flow, effort, deadline)
        assigned = plan.assigned
    return batch_result(
        problem,
        v,
        assigned,
        bound,
        time.perf_counter() - started,
        banded=banded,
        cut_short=deadline.cut_short,
    )


def batch_result(
    problem: Problem,
    v: Values,
    assigned: Int32s,
    bound: int,
    seconds: float,
    *,
    banded: bool = False,
    cut_short: bool = False,
) -> Batch:
    """The result record of an assignment (target per youth, or -1) and its bound; ``cut_short``
    when the wall-clock cap stopped a step of the solve."""
    youth, targets = problem.youth, problem.targets
    ys = np.flatnonzero(assigned >= 0).astype(np.int32)
    placed = assignments(youth, targets, ys, assigned[ys], problem.weights, banded=banded)
    priority = int(v.worth[ys].sum()) // v.scale
    score = sum(a.score for a in placed)
    objective = priority * v.scale + score
    unplaced = np.flatnonzero(assigned < 0)
    hopeless = unplaced[problem.pairs.start[unplaced] == problem.pairs.start[unplaced + 1]]
    return Batch(
        status="optimal" if bound == objective else "time_limit" if cut_short else "effort_limit",
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
