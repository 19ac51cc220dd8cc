"""Unmet need: which awaiting youth have no feasible target, and which hard rule blocks them most.

A youth's *blocking rule* is the rule of ``placement.matching.rules.RULES`` that fails alone at
the most candidates: relaxing it alone would open those targets (the first in ``RULES`` order on
a tie). When every candidate fails two rules or more the bucket is ``several``; with no candidate
at all, ``no_candidates``. For a youth blocked by ``services``, the required services its
candidates failing only that rule lack are counted too.

Sibling groups are counted per youth, on the engine's pair rules, exactly as
``placement.matching.explain.no_matches`` counts: a member's own pairs (``sibling_room``
included) decide whether it has a feasible target, so a member who fits somewhere its siblings
do not still counts as having one; whether the group can stay together shows in a batch's placed
counts, not here.

Language is a soft score term in this engine, not a hard rule: it never blocks anyone.

The rules are evaluated as the engine evaluates them (``rules.failures``), on one of the engine's
blocks of youth at a time (``rules.blocks``), so memory stays bounded whatever the numbers of
youth and targets (about 64 MiB at 2,000 x 10,000). Per youth results name the youth and never
leave the process; only their tallies (``UnmetNeed``) do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from placement.matching.arrays import Bools, TargetArrays, YouthArrays, compile_targets, compile_youth
from placement.matching.rules import RULE_NAMES, PairBlock, blocks, failures
from placement.matching.schema import Instance, NoMatch, Record, Youth

SEVERAL = "several"
"""Every candidate fails two rules or more."""
NO_CANDIDATES = "no_candidates"
SERVICES = RULE_NAMES.index("services")


@dataclass(frozen=True, slots=True)
class YouthNeed:
    """One awaiting youth's feasible targets and, when there is none, what blocks them."""

    youth: Youth
    feasible: int
    blocking: str | None
    """None when the youth has a feasible target."""
    missing_services: tuple[tuple[str, int], ...]
    """For a youth blocked by ``services``: each required service its candidates failing only
    that rule lack, with how many of them lack it, most first."""


class BlockingCount(Record, frozen=True, kw_only=True):
    rule: str
    """A rule's name, ``several`` or ``no_candidates``."""
    youth: int


class ServiceCount(Record, frozen=True, kw_only=True):
    service: str
    youth: int
    """Youth blocked by ``services`` whose candidates failing only that rule lack it (at one or
    more of them); a youth lacking several services counts once for each."""


class Need(Record, frozen=True, kw_only=True):
    """Awaiting youth of a region (or statewide), with and without a feasible target, and what
    blocks those without."""

    region: str | None
    """The youth's region (their origin's); None for the statewide totals."""
    awaiting: int
    with_feasible_target: int
    without_feasible_target: int
    blocking: tuple[BlockingCount, ...]
    """Youth without a feasible target by blocking rule, most first; they add up to them."""
    missing_services: tuple[ServiceCount, ...]
    """Most first."""


class UnmetNeed(Record, frozen=True, kw_only=True):
    """Counts only: never a youth's id, record or whereabouts."""

    statewide: Need
    regions: tuple[Need, ...]
    """By region name."""


def blocking_rule(only: Sequence[int], candidates: int) -> str:
    """The blocking rule of a youth without a feasible target, from how many candidates fail each
    rule of ``RULES`` and no other."""
    if candidates == 0:
        return NO_CANDIDATES
    most = int(np.argmax(only))
    return RULE_NAMES[most] if only[most] > 0 else SEVERAL


def blocking_of(no_match: NoMatch) -> str:
    """The blocking rule of a youth the engine found no feasible target for."""
    only = {count.rule: count.only for count in no_match.rule_counts}
    return blocking_rule([only[name] for name in RULE_NAMES], no_match.candidates)


def youth_needs(instance: Instance) -> tuple[YouthNeed, ...]:
    """Every youth of the instance, in id order."""
    targets = compile_targets(instance.targets, instance.reference_date)
    return needs_of(compile_youth(instance.youth, targets), targets)


def needs_of(youth: YouthArrays, targets: TargetArrays) -> tuple[YouthNeed, ...]:
    found: list[YouthNeed] = []
    for block in blocks(youth, targets):
        found.extend(_block_needs(block))
    return tuple(found)


def _block_needs(block: PairBlock) -> Iterable[YouthNeed]:
    failed = failures(block)
    count = failed.sum(axis=0, dtype=np.uint8)
    alone = count == 1
    feasible = (count == 0).sum(axis=1)
    only = np.stack([(failed[r] & alone).sum(axis=1) for r in range(len(RULE_NAMES))], axis=1)
    for i, y in enumerate(range(block.lo, block.hi)):
        person = block.youth.youth[y]
        if feasible[i] > 0:
            yield YouthNeed(youth=person, feasible=int(feasible[i]), blocking=None, missing_services=())
            continue
        rule = blocking_rule(only[i].tolist(), len(block.targets))
        services_alone = failed[SERVICES, i] & alone[i]
        missing = _missing_services(person, block.targets, services_alone) if rule == "services" else ()
        yield YouthNeed(youth=person, feasible=0, blocking=rule, missing_services=missing)


def _missing_services(person: Youth, targets: TargetArrays, among: Bools) -> tuple[tuple[str, int], ...]:
    """How many of the targets ``among`` lack each service the youth requires, most first."""
    needs = person.required_services
    lack = Counter({code: int((among & ~_offering(targets, code)).sum()) for code in needs})
    return tuple((code, n) for code, n in _most_first(lack) if n > 0)


def _offering(targets: TargetArrays, code: str) -> Bools:
    """The targets that offer a service (none, for a code no target names)."""
    bit = targets.service_book.bits.get(code)
    if bit is None:
        return np.zeros(len(targets), dtype=np.bool_)
    offering: Bools = (targets.services[:, bit // 64] & np.uint64(1 << (bit % 64))) != 0
    return offering


def unmet_need(instance: Instance) -> UnmetNeed:
    return tally(youth_needs(instance))


def tally(needs: Sequence[YouthNeed]) -> UnmetNeed:
    """Counts by region of the youth, and statewide."""
    regions = sorted({need.youth.region for need in needs})
    return UnmetNeed(
        statewide=_need(None, needs),
        regions=tuple(_need(region, [n for n in needs if n.youth.region == region]) for region in regions),
    )


def _need(region: str | None, needs: Sequence[YouthNeed]) -> Need:
    rules = Counter(need.blocking for need in needs if need.blocking is not None)
    services = Counter(code for need in needs for code, _ in need.missing_services)
    blocked = rules.total()
    return Need(
        region=region,
        awaiting=len(needs),
        with_feasible_target=len(needs) - blocked,
        without_feasible_target=blocked,
        blocking=tuple(BlockingCount(rule=r, youth=n) for r, n in _most_first(rules)),
        missing_services=tuple(ServiceCount(service=s, youth=n) for s, n in _most_first(services)),
    )


def _most_first(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kn: (-kn[1], kn[0]))
