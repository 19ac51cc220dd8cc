"""Settle the rest exactly: CP-SAT on the choices that could still improve the plan.

Target prices ``v`` bound every solution: ``L(v) = sum_y u_y + sum_g u_g + sum_t c_t v_t``,
where ``u`` is each youth's (each group's) best priced value. A choice priced ``s`` below its
youth's best costs any solution ``s`` of that bound, so a solution better than the plan can only
use choices with ``s <= L(v) - plan``, at every price vector met (reduced-cost fixing). When the
plan is close to the bounds that leaves few choices; CP-SAT solves the problem restricted to
them, and its bound there (or the plan, if higher) is a proven bound on the whole problem. Beds
of one safe house that every youth sees alike are merged into one slot class, which removes the
symmetry between them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from placement.matching import cpsat
from placement.matching.arrays import Bools, Int32s, Ints, TargetArrays
from placement.matching.flow import best_surplus
from placement.matching.groups import GroupOption, SitePrices
from placement.matching.limits import Deadline
from placement.matching.problem import PairTable, Problem

MAX_KEPT = 100_000
MAX_CHOICES = 8_000


@dataclass(frozen=True, slots=True)
class Plan:
    """Where each youth goes (target or -1), and what that is worth."""

    assigned: Int32s
    value: int


@dataclass(frozen=True, slots=True)
class Lagrangian:
    """The separable bound ``L(v)`` at one price vector, and what each choice loses of it."""

    bound: int
    prices: Ints
    surplus: Ints
    """Per youth: best priced value over their pairs, at least 0."""
    group_best: list[int]
    group_priced: list[list[int]]
    """Per group and option: an upper bound on the option's priced value."""

    @property
    def base(self) -> int:
        """The bound without the groups' part: the individual youth's and the capacity's."""
        return self.bound - sum(self.group_best)


def lagrangian(
    problem: Problem,
    w: Ints,
    worth: Ints,
    individual: Bools,
    options: Sequence[Sequence[GroupOption]],
    prices: Ints,
) -> Lagrangian:
    charges = SitePrices(problem.targets, prices)
    worth_of = worth.tolist()
    priced = [
        [sum(worth_of[m] for m in o.members) + o.score - charges.charge(o) for o in listed]
        for listed in options
    ]
    best = [max([0, *values]) for values in priced]
    surplus = best_surplus(problem.pairs, w, prices)
    capacity = problem.targets.capacity.astype(np.int64)
    bound = int(surplus[individual].sum()) + sum(best) + int((capacity * prices).sum())
    return Lagrangian(bound, prices, surplus, best, priced)


@dataclass(frozen=True, slots=True)
class SlotClasses:
    """Targets grouped so that the targets of a class are interchangeable for every youth."""

    of_target: Int32s
    capacity: Ints
    slots: list[list[int]]
    """Per class, a target per unit of capacity, in id order: who gets which."""


def slot_classes(pairs: PairTable, targets: TargetArrays) -> SlotClasses:
    """Beds of one safe house with the same feasible youth and scores share a class; every
    household is a class of its own."""
    order = np.argsort(pairs.t, kind="stable")
    bounds = np.searchsorted(pairs.t[order], np.arange(len(targets) + 1))
    keys: dict[tuple[object, ...], int] = {}
    of_target = np.empty(len(targets), dtype=np.int32)
    for t in range(len(targets)):
        column = order[bounds[t] : bounds[t + 1]]
        key: tuple[object, ...] = (
            (int(targets.site[t]), pairs.y[column].tobytes(), pairs.score[column].tobytes())
            if targets.is_bed[t]
            else (t,)
        )
        of_target[t] = keys.setdefault(key, len(keys))
    slots: list[list[int]] = [[] for _ in keys]
    for t, c in enumerate(of_target.tolist()):
        slots[c].extend([t] * int(targets.capacity[t]))
    return SlotClasses(of_target, np.array([len(s) for s in slots], dtype=np.int64), slots)


Choice = tuple[int, int]
"""A slot class, and the pair whose value taking it earns."""


@dataclass(slots=True)
class _Unit:
    """A youth without siblings here, or a sibling group, and what it may still choose: per
    option, per member, the slot classes that member could take under that option."""

    members: tuple[int, ...]
    options: list[list[list[Choice]]]
    must: bool


def _units(
    problem: Problem,
    classes: SlotClasses,
    kept: Ints,
    kept_options: Sequence[Sequence[GroupOption]],
    must: Bools,
) -> list[_Unit]:
    pairs, targets = problem.pairs, problem.targets
    units = []
    kept_youth = pairs.y[kept]
    starts = np.flatnonzero(np.r_[True, kept_youth[1:] != kept_youth[:-1]])[: len(kept)]
    rows = np.split(kept, starts[1:]) if len(kept) else []
    for y, row in zip(kept_youth[starts].tolist(), rows, strict=True):
        by_class = dict(zip(classes.of_target[pairs.t[row]].tolist(), row.tolist(), strict=True))
        options = [[[(c, k)]] for c, k in sorted(by_class.items())]
        units.append(_Unit((y,), options, must=bool(must[y])))
    for listed in (o for o in kept_options if o):
        options = []
        for option in listed:
            per_member = []
            for m in option.members:
                row = np.arange(pairs.start[m], pairs.start[m + 1])
                ts = pairs.t[row]
                here = row[
                    targets.is_bed[ts] & (targets.site[ts] == option.site)
                    if option.in_beds
                    else ts == option.targets[0]
                ]
                by_class = dict(zip(classes.of_target[pairs.t[here]].tolist(), here.tolist(), strict=True))
                per_member.append(sorted(by_class.items()))
            options.append(per_member)
        units.append(_Unit(listed[0].members, options, must=False))
    return units


def _settle_uncontested(
    units: list[_Unit], capacity: Ints, w: Ints
) -> tuple[dict[int, Choice], list[_Unit], Ints]:
    """Units none of whose choices can meet a full class take their best choice: whatever the
    others do, there is room. Repeated until no more can; returns their choices, the units left
    and the capacity left."""
    # Plain lists: this loop touches a handful of classes per unit, where NumPy's per-call cost
    # would dominate.
    load = [0] * len(capacity)
    for unit in units:
        for option in unit.options:
            for choices in option:
                for c, _ in choices:
                    load[c] += 1
    value = w.tolist()
    fixed: dict[int, Choice] = {}
    left = capacity.tolist()
    open_units = units
    while True:
        contested = []
        for unit in open_units:
            classes = [c for option in unit.options for choices in option for c, _ in choices]
            if any(load[c] > left[c] for c in classes):
                contested.append(unit)
                continue
            best = max(unit.options, key=lambda o: sum(max(value[k] for _, k in ch) for ch in o))
            for member, choices in zip(unit.members, best, strict=True):
                fixed[member] = max(choices, key=lambda ck: (value[ck[1]], -ck[0]))
            for c in classes:
                load[c] -= 1
            for c, _ in (fixed[m] for m in unit.members):
                left[c] -= 1
        if len(contested) == len(open_units):
            return fixed, contested, np.array(left, dtype=np.int64)
        open_units = contested


@dataclass(frozen=True, slots=True)
class _Outcome:
    picks: dict[int, int]
    """Member -> slot class chosen."""
    value: int
    bound: int


def _solve_contested(
    units: Sequence[_Unit],
    left: Ints,
    w: Ints,
    hint: dict[int, int],
    effort: float,
    deadline: Deadline,
) -> _Outcome | None:
    """CP-SAT on the contested units: each takes one option (``must``) or at most one, each
    member of a taken option one of its classes, within each class's capacity left."""
    model = cp_model.CpModel()
    load: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    objective: list[tuple[cp_model.IntVar, int]] = []
    taken: list[tuple[cp_model.IntVar, int, int]] = []
    for unit in units:
        chosen = []
        for option in unit.options:
            z = model.new_bool_var("")
            chosen.append(z)
            model.add_hint(
                z, all(hint.get(m, -1) in dict(ch) for m, ch in zip(unit.members, option, strict=True))
            )
            for member, choices in zip(unit.members, option, strict=True):
                xs = [z] if len(choices) == 1 else [model.new_bool_var("") for _ in choices]
                for x, (c, k) in zip(xs, choices, strict=True):
                    load[c].append(x)
                    objective.append((x, int(w[k])))
                    taken.append((x, member, c))
                    if x is not z:
                        model.add_hint(x, hint.get(member, -1) == c)
                if len(xs) > 1:
                    model.add(sum(xs) == z)
        if unit.must:
            model.add_exactly_one(chosen)
        else:
            model.add_at_most_one(chosen)
    for c, xs in sorted(load.items()):
        if len(xs) > left[c]:
            model.add(sum(xs) <= int(left[c]))
    model.maximize(sum(value * x for x, value in objective))
    solved = cpsat.solve(model, effort, deadline)
    if solved.bound is None:
        return None
    picks = {m: c for x, m, c in taken if solved.solver.boolean_value(x)}
    return _Outcome(picks, round(solved.solver.objective_value), solved.bound)


def settle(
    problem: Problem,
    w: Ints,
    individual: Bools,
    options: Sequence[Sequence[GroupOption]],
    plan: Plan,
    bound: int,
    cuts: Sequence[Lagrangian],
    effort: float,
    deadline: Deadline,
) -> tuple[Plan, int]:
    """The best plan and bound after solving the restricted problem; the plan unchanged if the
    restricted problem is too large for the time."""
    if bound <= plan.value:
        return plan, bound
    pairs = problem.pairs
    kept_pairs = individual[pairs.y].copy()
    kept_flags = [[True] * len(listed) for listed in options]
    must = np.zeros(len(individual), dtype=np.bool_)
    for cut in cuts:
        slack = cut.bound - plan.value
        kept_pairs &= cut.surplus[pairs.y] - (w - cut.prices[pairs.t]) <= slack
        must |= cut.surplus > slack
        for flags, priced, best in zip(kept_flags, cut.group_priced, cut.group_best, strict=True):
            flags[:] = [f and best - value <= slack for f, value in zip(flags, priced, strict=True)]
    kept = np.flatnonzero(kept_pairs)
    kept_options = [
        [o for o, keep in zip(listed, flags, strict=True) if keep]
        for listed, flags in zip(options, kept_flags, strict=True)
    ]
    if len(kept) + sum(len(o) for o in kept_options) > MAX_KEPT:
        return plan, bound
    classes = slot_classes(pairs, problem.targets)
    units = _units(problem, classes, kept, kept_options, must)
    fixed, contested, left = _settle_uncontested(units, classes.capacity, w)
    if sum(len(o) for unit in contested for o in unit.options) > MAX_CHOICES:
        return plan, bound
    value = sum(int(w[k]) for _, k in fixed.values())
    hint = {
        m: int(classes.of_target[plan.assigned[m]])
        for unit in contested
        for m in unit.members
        if plan.assigned[m] >= 0
    }
    outcome = _solve_contested(contested, left, w, hint, effort, deadline)
    if outcome is None:
        return plan, bound
    bound = min(bound, max(plan.value, value + outcome.bound))
    if value + outcome.value <= plan.value:
        return plan, bound
    by_class: dict[int, list[int]] = defaultdict(list)
    for member, (c, _) in fixed.items():
        by_class[c].append(member)
    for member, c in outcome.picks.items():
        by_class[c].append(member)
    assigned = np.where(individual, -1, plan.assigned).astype(np.int32)
    for unit in units:
        assigned[list(unit.members)] = -1
    for c, members in by_class.items():
        assigned[sorted(members)] = classes.slots[c][: len(members)]
    return Plan(assigned, value + outcome.value), bound
