"""Youth placed one by one, jointly: min-cost flow with pricing.

Placing youth each on their own (siblings apart, or youth without siblings around fixed group
sites) is a transportation problem (youth supply 1, target capacity, value ``w`` per pair) that
min-cost flow solves exactly. The flow runs on a pruned set of pairs; target *prices* (dual
values) computed from its solution tell which pruned-away pairs could still improve it. Those are
added and the flow re-solved until none is left (optimal over all pairs) or the dual bound is
within ``PRICING_TOLERANCE`` of it. Any prices ``v >= 0`` give a valid upper bound:
``sum_y max(0, max_t w[y,t] - v[t]) + sum_t capacity[t] * v[t]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from placement.matching.arrays import Bools, Int32s, Ints
from placement.matching.problem import PairTable

MAX_PRICE_ROUNDS = 5_000
MAX_PRICING_ROUNDS = 12
PRICING_TOLERANCE = 1e-6
ARCS_PER_ROUND = 4


@dataclass(frozen=True, slots=True)
class FlowSolution:
    assigned: Int32s
    """Target of each youth, or -1."""
    value: int
    bound: int
    """The dual bound of its prices: no relaxed assignment is worth more."""
    prices: Ints
    """The least prices consistent with it (what one more slot of each target is worth)."""
    high_prices: Ints
    """The greatest (what taking a slot away costs)."""
    arcs: Bools
    """The pairs the flow was given in the end."""
    work: int
    """Arcs solved over, summed over the pricing rounds: what the flow cost."""


def assign(n_youth: int, capacity: Int32s, arc_y: Int32s, arc_t: Int32s, arc_w: Ints) -> tuple[Int32s, Ints]:
    """Maximum-value assignment over the given arcs: (target per youth or -1, arc used per youth
    or -1). Only the youth and targets of some arc enter the flow network."""
    ys, tails = np.unique(arc_y, return_inverse=True)
    ts, heads = np.unique(arc_t, return_inverse=True)
    n_y, n_t = len(ys), len(ts)
    sink = n_y + n_t
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([tails, np.arange(n_y + n_t)]).astype(np.int32),
        np.concatenate([heads + n_y, np.full(n_y + n_t, sink)]).astype(np.int32),
        np.concatenate([np.ones(len(arc_y) + n_y, dtype=np.int64), capacity[ts].astype(np.int64)]),
        np.concatenate([-arc_w, np.zeros(n_y + n_t, dtype=np.int64)]),
    )
    supplies = np.concatenate([np.ones(n_y, dtype=np.int64), np.zeros(n_t, np.int64), [-n_y]])
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    used = np.nonzero(flow.flows(np.arange(len(arc_y), dtype=np.int32)) > 0)[0]
    assigned = np.full(n_youth, -1, dtype=np.int32)
    assigned[arc_y[used]] = arc_t[used]
    arc_of = np.full(n_youth, -1, dtype=np.int64)
    arc_of[arc_y[used]] = used
    return assigned, arc_of


def _gained(arc_w: Ints, arc_of: Ints) -> Ints:
    """Per youth: the value of the arc it uses, 0 if unplaced."""
    gained = np.zeros(len(arc_of), dtype=np.int64)
    placed = arc_of >= 0
    gained[placed] = arc_w[arc_of[placed]]
    return gained


def _surplus(gained: Ints, price: Ints, assigned: Int32s) -> Ints:
    """Per youth: the value of its place minus the place's price, 0 if unplaced."""
    surplus = gained.copy()
    placed = assigned >= 0
    surplus[placed] -= price[assigned[placed]]
    return surplus


def prices(
    capacity: Int32s, arc_y: Int32s, arc_t: Int32s, arc_w: Ints, assigned: Int32s, arc_of: Ints
) -> Ints:
    """The least target prices consistent with an optimal assignment over these arcs: a full
    target costs what the best youth kept out of it would gain; a target with room costs 0.
    Bellman-Ford in price form, each round vectorised over the arcs."""
    n_targets = len(capacity)
    full = np.bincount(assigned[assigned >= 0], minlength=n_targets) >= capacity
    gained = _gained(arc_w, arc_of)
    price = np.zeros(n_targets, dtype=np.int64)
    on_full = full[arc_t]
    arc_y, arc_t, arc_w = arc_y[on_full], arc_t[on_full], arc_w[on_full]
    for _ in range(MAX_PRICE_ROUNDS):
        surplus = _surplus(gained, price, assigned)
        raised = np.zeros(n_targets, dtype=np.int64)
        np.maximum.at(raised, arc_t, arc_w - surplus[arc_y])
        raised = np.maximum(raised, price)
        if np.array_equal(raised, price):
            break
        price = raised
    return price


def high_prices(
    capacity: Int32s,
    arc_y: Int32s,
    arc_t: Int32s,
    arc_w: Ints,
    assigned: Int32s,
    arc_of: Ints,
    low: Ints,
) -> Ints:
    """The greatest target prices consistent with the same assignment: a full target costs what
    its occupants would lose by moving to their best alternative. Where ``prices`` says what one
    more slot would be worth, this says what taking a slot away costs (what a sibling group
    pays). Targets nobody occupies keep their ``low`` price."""
    n_targets = len(capacity)
    placed = np.flatnonzero(assigned >= 0)
    at = assigned[placed]
    gained = arc_w[arc_of[placed]]
    dear = np.zeros(n_targets, dtype=np.bool_)
    dear[at] = True
    dear &= np.bincount(at, minlength=n_targets) >= capacity
    unused = np.ones(len(arc_y), dtype=np.bool_)
    unused[arc_of[placed]] = False
    other_y, other_t, other_w = arc_y[unused], arc_t[unused], arc_w[unused]
    never = np.iinfo(np.int64).max
    price = low.copy()
    top = np.full(n_targets, never, dtype=np.int64)
    np.minimum.at(top, at, gained)
    price[dear] = top[dear]
    for _ in range(MAX_PRICE_ROUNDS):
        alternative = np.zeros(len(assigned), dtype=np.int64)
        np.maximum.at(alternative, other_y, other_w - price[other_t])
        lowered = np.full(n_targets, never, dtype=np.int64)
        np.minimum.at(lowered, at, gained - alternative[placed])
        lowered = np.where(dear, np.maximum(np.minimum(lowered, price), low), price)
        if np.array_equal(lowered, price):
            break
        price = lowered
    return price


def relaxed_solution(
    pairs: PairTable,
    w: Ints,
    active: Bools,
    capacity: Int32s,
    arcs: Bools,
    tolerance: float = PRICING_TOLERANCE,
) -> FlowSolution:
    """Relaxed assignment of the active youth over all their feasible pairs, starting from the
    pruned pairs ``arcs`` and pricing the rest in until none could improve it, or the dual bound
    is within ``tolerance`` of it."""
    n_youth = len(pairs.start) - 1
    arcs = arcs & active[pairs.y]
    among = active[pairs.y]
    work = 0
    for _ in range(MAX_PRICING_ROUNDS):
        chosen = np.flatnonzero(arcs)
        work += len(chosen)
        arc_y, arc_t, arc_w = pairs.y[chosen], pairs.t[chosen], w[chosen]
        assigned, arc_of = assign(n_youth, capacity, arc_y, arc_t, arc_w)
        price = prices(capacity, arc_y, arc_t, arc_w, assigned, arc_of)
        surplus = _surplus(_gained(arc_w, arc_of), price, assigned)
        value = int(surplus.sum()) + int(price[assigned[assigned >= 0]].sum())
        bound = dual_bound(pairs, w, among, price, capacity, active)
        gain = w - price[pairs.t] - surplus[pairs.y]
        improving = np.flatnonzero(among & ~arcs & (gain > 0))
        if not len(improving) or bound - value <= tolerance * bound:
            break
        arcs = arcs.copy()
        arcs[_best_per_youth(pairs.y[improving], gain[improving], improving)] = True
    return FlowSolution(
        assigned=assigned,
        value=value,
        bound=bound,
        prices=price,
        high_prices=high_prices(capacity, arc_y, arc_t, arc_w, assigned, arc_of, price),
        arcs=arcs,
        work=work,
    )


def dual_bound(pairs: PairTable, w: Ints, among: Bools, price: Ints, capacity: Int32s, active: Bools) -> int:
    """``sum_y max(0, max_t w[y,t] - price[t]) + sum_t capacity[t] * price[t]`` over the active
    youth and the pairs ``among``: an upper bound on the relaxed problem for any prices >= 0."""
    surplus = best_surplus(pairs, w, price, among)
    return int(surplus[active].sum()) + int((capacity.astype(np.int64) * price).sum())


def _best_per_youth(ys: Int32s, gain: Ints, arcs: Ints) -> Ints:
    """Of these arcs, the ``ARCS_PER_ROUND`` with the highest gain per youth."""
    order = np.lexsort((arcs, -gain, ys))
    ys = ys[order]
    first = np.flatnonzero(np.r_[True, ys[1:] != ys[:-1]])
    rank = np.arange(len(ys)) - np.repeat(first, np.diff(np.r_[first, len(ys)]))
    return arcs[order[rank < ARCS_PER_ROUND]]


def best_surplus(pairs: PairTable, w: Ints, price: Ints, among: Bools | None = None) -> Ints:
    """Per youth: max(0, best value minus price over their feasible pairs (those ``among``))."""
    priced = w - price[pairs.t]
    if among is not None:
        priced = np.where(among, priced, 0)
    return pairs.per_youth(np.maximum, priced)


def tight_arcs(pairs: PairTable, w: Ints, active: Bools, price: Ints) -> Bools:
    """The active youth's pairs that are worth their best at these prices: where a flow at
    other capacities starts (complementary slackness keeps the rest out until priced in)."""
    priced = w - price[pairs.t]
    return active[pairs.y] & (priced >= best_surplus(pairs, w, price)[pairs.y])
