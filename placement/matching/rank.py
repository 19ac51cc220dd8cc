"""Ranked proposals for one match request: one youth, or one sibling group placed together.

No solver: rank the feasible targets by score (ties by target id). A sibling group's proposals
are its sites (households with room for all, safe houses with a feasible bed for each member),
ranked by the members' scores added up.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from placement.matching.arrays import TargetArrays, YouthArrays, compile_youth
from placement.matching.explain import no_match, ranked_feasible
from placement.matching.groups import group_options
from placement.matching.limits import DEFAULT_PROPOSALS
from placement.matching.problem import feasible_pairs
from placement.matching.rules import PairBlock, feasible
from placement.matching.schema import NoMatch, Proposal, Ranking, Youth
from placement.matching.score import assignments
from placement.matching.weights import Weights


def rank(
    unit: Sequence[Youth],
    targets: TargetArrays,
    weights: Weights,
    *,
    limit: int = DEFAULT_PROPOSALS,
    banded: bool = False,
) -> Ranking:
    """Proposals for one youth, or for a sibling group (youth sharing one ``sibling_group``)."""
    youth = compile_youth(unit, targets)
    if len(youth) > 1 and (len(youth.group_ids) != 1 or (youth.group < 0).any()):
        raise ValueError("rank takes one youth or the members of one sibling group")
    if len(youth) == 1:
        return _rank_youth(youth, targets, weights, limit, banded=banded)
    return _rank_group(youth, targets, weights, limit, banded=banded)


def _rank_youth(
    youth: YouthArrays, targets: TargetArrays, weights: Weights, limit: int, *, banded: bool
) -> Ranking:
    ok = feasible(PairBlock(youth, targets, 0, 1))[0]
    ranked, _ = ranked_feasible(youth, targets, 0, np.nonzero(ok)[0].astype(np.int32), weights)
    top = ranked[:limit]
    placed = assignments(youth, targets, np.zeros(len(top), np.int32), top, weights, banded=banded)
    return Ranking(
        youth_ids=(youth.youth[0].id,),
        proposals=tuple(
            Proposal(
                rank=i + 1,
                site_id=targets.site_ids[targets.site[t]],
                score=a.score,
                assignments=(a,),
            )
            for i, (t, a) in enumerate(zip(top.tolist(), placed, strict=True))
        ),
        no_match=() if len(ranked) else (no_match(youth, targets, 0, weights, banded=banded),),
    )


def _rank_group(
    youth: YouthArrays, targets: TargetArrays, weights: Weights, limit: int, *, banded: bool
) -> Ranking:
    pairs = feasible_pairs(youth, targets, weights)
    members = list(range(len(youth)))
    options = group_options(0, members, pairs, targets)[:limit]
    proposals = []
    for i, option in enumerate(options):
        placed = assignments(
            youth,
            targets,
            np.array(members, np.int32),
            np.array(option.targets, np.int32),
            weights,
            banded=banded,
        )
        proposals.append(
            Proposal(
                rank=i + 1,
                site_id=targets.site_ids[option.site],
                score=option.score,
                assignments=tuple(placed),
            )
        )
    reasons: tuple[NoMatch, ...] = ()
    if not options:
        together = f"no household or safe house fits all {len(youth)} siblings together"
        reasons = tuple(
            no_match(
                youth,
                targets,
                m,
                weights,
                banded=banded,
                summary=together if pairs.start[m + 1] > pairs.start[m] else None,
            )
            for m in members
        )
    return Ranking(youth_ids=tuple(y.id for y in youth.youth), proposals=tuple(proposals), no_match=reasons)
