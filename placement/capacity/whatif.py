"""What-if: the awaiting youth solved jointly on today's data and on a scenario's, compared.

Both solves are the engine's batch (``placement.matching.cli.solve_instance``, as a batch match
runs it), so the difference is the scenario's, up to what the engine's budget leaves unproven:
each side's status says whether its plan is proven optimal. The answer holds counts only (by
urgency, by region of the youth, by blocking rule): it is for program leads, who never see a
youth's record, id or whereabouts.

Blocking rules (``placement.capacity.blocking``) come from each batch's ``no_match``: the engine
lists there every youth without a feasible target, with the counts the blocking rule is read
from.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Literal, TypeVar

from placement.capacity.blocking import blocking_of
from placement.capacity.scenarios import NEW_SITE_ID, Scenario, apply
from placement.matching.cli import solve_instance
from placement.matching.limits import DEFAULT_EFFORT, DEFAULT_SECONDS
from placement.matching.schema import SAFE_HOUSE_BED, Batch, Instance, Record, Target, Youth

FEASIBLE = "feasible"
"""A transition's ``after`` for a youth with a feasible target after the scenario."""
Status = Literal["optimal", "effort_limit", "time_limit"]
K = TypeVar("K", int, str)


class Changes(Record, frozen=True, kw_only=True):
    """What the scenario changed in the data: none at all says it named no region there is."""

    households_trained: int
    households_reopened: int
    beds_added: int


class Placed(Record, frozen=True, kw_only=True):
    """Awaiting youth, and how many of them are placed before and after the scenario."""

    awaiting: int
    before: int
    after: int


class UrgencyPlaced(Placed, frozen=True, kw_only=True):
    urgency: int


class RegionPlaced(Placed, frozen=True, kw_only=True):
    region: str
    """The youth's region (their origin's)."""


class Transition(Record, frozen=True, kw_only=True):
    """Youth of a region without a feasible target before the scenario: blocked by rule ``before``,
    and after it ``feasible``, or blocked by rule ``after``."""

    region: str
    before: str
    after: str
    youth: int


class WhatIfAnswer(Record, frozen=True, kw_only=True):
    """Counts only: never a youth's id, record or whereabouts."""

    changes: Changes
    status_before: Status
    status_after: Status
    """How each joint solve ended (``placement.matching.schema.Batch.status``)."""
    placed: Placed
    by_urgency: tuple[UrgencyPlaced, ...]
    by_region: tuple[RegionPlaced, ...]
    transitions: tuple[Transition, ...]
    """By region, then rule before, then after."""


def what_if(
    instance: Instance, scenario: Scenario, effort: float = DEFAULT_EFFORT, seconds: float = DEFAULT_SECONDS
) -> WhatIfAnswer:
    """The scenario applied, the awaiting youth solved jointly before and after it (each solve
    with the budget ``effort`` and the cap ``seconds``), and the two compared."""
    changed = apply(instance, scenario, new_site_id=NEW_SITE_ID)
    return compare(
        instance, changed, solve_jointly(instance, effort, seconds), solve_jointly(changed, effort, seconds)
    )


def solve_jointly(instance: Instance, effort: float, seconds: float) -> Batch:
    result = solve_instance(instance, mode="batch", effort=effort, seconds=seconds)
    assert isinstance(result, Batch)  # a batch solve's answer
    return result


def compare(before: Instance, after: Instance, solved_before: Batch, solved_after: Batch) -> WhatIfAnswer:
    """Counts of what changed between the joint solves of the same youth on two sets of targets."""
    youth = sorted(before.youth, key=lambda y: y.id)
    if youth != sorted(after.youth, key=lambda y: y.id):
        raise ValueError("a what-if compares the same youth before and after")
    placed_before = {a.youth_id for a in solved_before.assignments}
    placed_after = {a.youth_id for a in solved_after.assignments}

    def placed(some: list[Youth]) -> dict[str, int]:
        ids = {y.id for y in some}
        return {"awaiting": len(ids), "before": len(ids & placed_before), "after": len(ids & placed_after)}

    return WhatIfAnswer(
        changes=changes(before.targets, after.targets),
        status_before=solved_before.status,
        status_after=solved_after.status,
        placed=Placed(**placed(youth)),
        by_urgency=tuple(
            UrgencyPlaced(urgency=urgency, **placed(some))
            for urgency, some in _grouped(youth, lambda y: y.urgency)
        ),
        by_region=tuple(
            RegionPlaced(region=region, **placed(some))
            for region, some in _grouped(youth, lambda y: y.region)
        ),
        transitions=transitions(youth, solved_before, solved_after),
    )


def transitions(youth: Iterable[Youth], solved_before: Batch, solved_after: Batch) -> tuple[Transition, ...]:
    """For the youth without a feasible target before: their blocking rule before and after."""
    region = {y.id: y.region for y in youth}
    blocked_after = {no_match.youth_id: blocking_of(no_match) for no_match in solved_after.no_match}
    counts = Counter(
        (region[no_match.youth_id], blocking_of(no_match), blocked_after.get(no_match.youth_id, FEASIBLE))
        for no_match in solved_before.no_match
    )
    return tuple(
        Transition(region=r, before=before, after=after, youth=n)
        for (r, before, after), n in sorted(counts.items())
    )


def changes(before: Iterable[Target], after: Iterable[Target]) -> Changes:
    """How many households became ready for a level of care or reopened, and how many beds were
    added, from one set of targets to the other."""
    old = {t.id: t for t in before}
    homes = [(old[t.id], t) for t in after if t.id in old and t.kind != SAFE_HOUSE_BED]
    return Changes(
        households_trained=sum(1 for was, now in homes if set(now.ready_levels) > set(was.ready_levels)),
        households_reopened=sum(
            1 for was, now in homes if was.availability != "open" and now.availability == "open"
        ),
        beds_added=sum(1 for t in after if t.id not in old and t.kind == SAFE_HOUSE_BED),
    )


def _grouped(youth: list[Youth], key: Callable[[Youth], K]) -> list[tuple[K, list[Youth]]]:
    return [(k, [y for y in youth if key(y) == k]) for k in sorted({key(y) for y in youth})]
