"""Explanations: which rules removed a youth's candidates, and why a pair is or is not proposed.

Both evaluate the rules of ``rules`` one by one on the same arrays feasibility uses, so an
explanation always agrees with what the solver was allowed to do. Distances come exact, or in
bands of the distance to the target's area point for the roles that may not see positions
(``banded=True``).
"""

from __future__ import annotations

import numpy as np

from placement.matching.arrays import Bools, Int32s, TargetArrays, YouthArrays
from placement.matching.groups import group_options
from placement.matching.problem import feasible_pairs
from placement.matching.rules import RULES, Pair, PairBlock, failures
from placement.matching.schema import NearMiss, NoMatch, RuleCount, RuleFailure, WhyNot
from placement.matching.score import assignments, breakdowns, score_terms, score_total
from placement.matching.weights import Weights

NEAR_MISSES = 10
BEATEN_BY = 5  # the targets ranked just above the one asked about


def rule_failures(youth: YouthArrays, targets: TargetArrays, y: int) -> Bools:
    """(rules, targets): True where youth ``y`` fails the rule at the target."""
    return failures(PairBlock(youth, targets, y, y + 1))[:, 0, :]


def failure_of(
    youth: YouthArrays, targets: TargetArrays, y: int, t: int, rule: int, *, banded: bool
) -> RuleFailure:
    pair = Pair(youth, targets, y, t, banded)
    return RuleFailure(rule=RULES[rule].name, detail=RULES[rule].detail(pair))


def ranked_feasible(
    youth: YouthArrays, targets: TargetArrays, y: int, ts: Int32s, weights: Weights
) -> tuple[Int32s, Int32s]:
    """The given targets of youth ``y`` by score, best first, ties by id: (targets, scores)."""
    ys = np.full(len(ts), y, dtype=np.int32)
    score = score_total(score_terms(youth, targets, ys, ts, weights))
    order = np.lexsort((ts, -score))
    return ts[order], score[order]


def no_match(
    youth: YouthArrays,
    targets: TargetArrays,
    y: int,
    weights: Weights,
    *,
    banded: bool = False,
    summary: str | None = None,
) -> NoMatch:
    """How many candidates each rule removed, and the targets that fail exactly one rule
    (highest score first)."""
    rows = np.array([y], dtype=np.int32)
    return no_matches(youth, targets, rows, weights, banded=banded, summary=summary)[0]


def no_matches(
    youth: YouthArrays,
    targets: TargetArrays,
    rows: Int32s,
    weights: Weights,
    *,
    banded: bool = False,
    summary: str | None = None,
) -> list[NoMatch]:
    """``no_match`` for several youth, their rules evaluated together."""
    some = youth.take(rows)
    failed_all = failures(PairBlock(some, targets, 0, len(some)))
    found = []
    for y in range(len(some)):
        failed = failed_all[:, y, :]
        count = failed.sum(axis=0)
        misses = np.flatnonzero(count == 1).astype(np.int32)
        misses, _ = ranked_feasible(some, targets, y, misses, weights)
        near = [
            NearMiss(
                target_id=targets.targets[t].id,
                failure=failure_of(some, targets, y, t, int(np.argmax(failed[:, t])), banded=banded),
            )
            for t in misses[:NEAR_MISSES].tolist()
        ]
        found.append(
            NoMatch(
                youth_id=some.youth[y].id,
                candidates=len(targets),
                feasible=int((count == 0).sum()),
                rule_counts=tuple(
                    RuleCount(
                        rule=rule.name,
                        failed=int(failed[r].sum()),
                        only=int((failed[r] & (count == 1)).sum()),
                    )
                    for r, rule in enumerate(RULES)
                ),
                near_misses=tuple(near),
                summary=summary or f"no feasible target among {len(targets)} candidates",
            )
        )
    return found


def siblings_apart(
    youth: YouthArrays, targets: TargetArrays, weights: Weights, y: int, t: int
) -> RuleFailure | None:
    """Why a youth's sibling group cannot stay together where the youth alone would fit, if so.

    A sibling group is placed together or not at all, so a target the youth fits is still ruled
    out when a sibling does not fit there (a household), or when the safe house has no bed for
    every member.
    """
    group = int(youth.group[y])
    if group < 0:
        return None
    members = np.flatnonzero(youth.group == group).tolist()
    sites = {
        option.site
        for option in group_options(group, members, feasible_pairs(youth, targets, weights), targets)
    }
    if int(targets.site[t]) in sites:
        return None
    names = ", ".join(youth.youth[m].id for m in members)
    blocking = [
        f"{youth.youth[m].id} fails {RULES[int(r)].name}"
        for m in members
        if m != y
        for r in np.nonzero(rule_failures(youth, targets, m)[:, t])[0][:1]
    ]
    where = "here" if not targets.is_bed[t] else "in this safe house's beds"
    because = f": {'; '.join(blocking)}" if blocking else ""
    return RuleFailure(
        rule="siblings_together",
        detail=f"the sibling group ({names}) cannot stay together {where}{because}",
    )


def why_not(
    youth: YouthArrays,
    targets: TargetArrays,
    weights: Weights,
    youth_id: str,
    target_id: str,
    *,
    banded: bool = False,
) -> WhyNot:
    """Every rule the pair fails with the values compared; or, if feasible, its score, its rank
    among the youth's feasible targets and what ranks above it."""
    if youth_id not in youth.index:
        raise KeyError(f"no youth {youth_id!r} in the instance")
    if target_id not in targets.index:
        raise KeyError(f"no target {target_id!r} in the instance")
    y, t = youth.index[youth_id], targets.index[target_id]
    failed = rule_failures(youth, targets, y)
    if failed[:, t].any():
        return WhyNot(
            youth_id=youth_id,
            target_id=target_id,
            feasible=False,
            failures=tuple(
                failure_of(youth, targets, y, t, int(r), banded=banded) for r in np.nonzero(failed[:, t])[0]
            ),
        )
    apart = siblings_apart(youth, targets, weights, y, t)
    if apart is not None:
        return WhyNot(youth_id=youth_id, target_id=target_id, feasible=False, failures=(apart,))
    feasible = np.nonzero(~failed.any(axis=0))[0].astype(np.int32)
    ranked, _ = ranked_feasible(youth, targets, y, feasible, weights)
    rank = int(np.nonzero(ranked == t)[0][0])
    terms = score_terms(youth, targets, np.array([y], np.int32), np.array([t], np.int32), weights)
    above = ranked[max(0, rank - BEATEN_BY) : rank]  # the targets just above it, best first
    return WhyNot(
        youth_id=youth_id,
        target_id=target_id,
        feasible=True,
        failures=(),
        score=int(score_total(terms)[0]),
        terms=breakdowns(terms)[0],
        rank=rank + 1,
        feasible_count=len(ranked),
        beaten_by=tuple(
            assignments(youth, targets, np.full(len(above), y, np.int32), above, weights, banded=banded)
        ),
    )
