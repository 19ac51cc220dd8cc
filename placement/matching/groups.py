"""Where a sibling group can stay together: one household with room for all, or beds of one
safe house, each member in a bed feasible for them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from placement.matching.arrays import Int32s, Ints, TargetArrays
from placement.matching.problem import PairTable, Problem


@dataclass(frozen=True, slots=True)
class GroupOption:
    """A sibling group placed at one site: member ``members[i]`` goes to ``targets[i]``."""

    group: int
    site: int
    members: tuple[int, ...]
    targets: tuple[int, ...]
    score: int
    """The members' scores added up."""
    in_beds: bool


def best_bed_assignment(
    member_scores: Sequence[dict[int, int]], beds: Sequence[int]
) -> tuple[int, tuple[int, ...]] | None:
    """The highest-scoring way to give every member its own bed (beds in id order break ties),
    or None if there is none: (score, bed of each member)."""
    k = len(member_scores)
    common = [scores.get(beds[0]) for scores in member_scores]
    if len(beds) >= k and all(
        s is not None and all(scores.get(b) == s for b in beds)
        for s, scores in zip(common, member_scores, strict=True)
    ):
        return sum(s for s in common if s is not None), tuple(beds[:k])
    best: dict[int, tuple[int, tuple[tuple[int, int], ...]]] = {0: (0, ())}
    for bed in beds:
        extended = dict(best)
        for mask, (value, chosen) in best.items():
            for m, scores in enumerate(member_scores):
                if mask & (1 << m) or bed not in scores:
                    continue
                candidate = (value + scores[bed], (*chosen, (m, bed)))
                grown = mask | (1 << m)
                if grown not in extended or candidate[0] > extended[grown][0]:
                    extended[grown] = candidate
        best = extended
    everyone = (1 << k) - 1
    if everyone not in best:
        return None
    value, chosen = best[everyone]
    return value, tuple(bed for _, bed in sorted(chosen))


def scores_of(pairs: PairTable, youth: int) -> dict[int, int]:
    """A youth's feasible targets and the score of each."""
    row = pairs.row(youth)
    return dict(zip(pairs.t[row].tolist(), pairs.score[row].tolist(), strict=True))


def group_options(
    group: int, members: Sequence[int], pairs: PairTable, targets: TargetArrays
) -> list[GroupOption]:
    """Every site where the whole group fits, best score first (ties by site id)."""
    member_scores = [scores_of(pairs, m) for m in members]
    shared = set(member_scores[0]).intersection(*member_scores[1:])
    options = [
        GroupOption(
            group=group,
            site=int(targets.site[t]),
            members=tuple(members),
            targets=(t,) * len(members),
            score=sum(scores[t] for scores in member_scores),
            in_beds=False,
        )
        for t in sorted(shared)
        if not targets.is_bed[t]
    ]
    beds_by_site: dict[int, set[int]] = defaultdict(set)
    sites_of_member = []
    for scores in member_scores:
        feasible = np.fromiter(scores, dtype=np.int64, count=len(scores))
        beds = feasible[targets.is_bed[feasible]]
        sites = targets.site[beds].tolist()
        for t, site in zip(beds.tolist(), sites, strict=True):
            beds_by_site[site].add(t)
        sites_of_member.append(set(sites))
    for site in sorted(set.intersection(*sites_of_member)):
        found = best_bed_assignment(member_scores, sorted(beds_by_site[site]))
        if found is not None:
            options.append(GroupOption(group, site, tuple(members), found[1], found[0], True))
    options.sort(key=lambda o: (-o.score, o.site))
    return options


def all_group_options(problem: Problem) -> list[list[GroupOption]]:
    """Every group's sites (``group_options``), in group order."""
    members = members_of(problem.youth.group, len(problem.youth.group_ids))
    return [group_options(g, m, problem.pairs, problem.targets) for g, m in enumerate(members)]


def members_of(group_of_youth: Int32s, n_groups: int) -> list[list[int]]:
    """Youth indices of each group, in id order."""
    members: list[list[int]] = [[] for _ in range(n_groups)]
    for i, g in enumerate(group_of_youth.tolist()):
        if g >= 0:
            members[g].append(i)
    return members


class SitePrices:
    """What taking ``k`` slots of a site costs at given target prices: ``k`` times the price of
    a household; the ``k`` cheapest beds of a safe house, since a group may take any of them."""

    def __init__(self, targets: TargetArrays, prices: Ints) -> None:
        self.targets = targets
        self.prices = prices
        self._beds: dict[int, Ints] = {}

    def charge(self, option: GroupOption) -> int:
        k = len(option.members)
        if not option.in_beds:
            return k * int(self.prices[option.targets[0]])
        if option.site not in self._beds:
            beds = self.targets.beds_of_house[self.targets.site_ids[option.site]]
            self._beds[option.site] = np.sort(self.prices[list(beds)])
        return int(self._beds[option.site][:k].sum())


def site_room(targets: TargetArrays, room: Int32s) -> Ints:
    """Free slots per site: a household's capacity, a safe house's free beds."""
    return np.bincount(targets.site, weights=room, minlength=len(targets.site_ids)).astype(np.int64)


def seat(
    chosen: Sequence[GroupOption | None], pairs: PairTable, targets: TargetArrays
) -> list[GroupOption | None]:
    """Give groups sharing a safe house distinct beds; a group that no longer fits is dropped
    (the site model counts a safe house's beds, not which)."""
    taken: set[int] = set()
    seated: list[GroupOption | None] = []
    for option in chosen:
        if option is None or not option.in_beds or not taken.intersection(option.targets):
            seated.append(option)
            if option is not None and option.in_beds:
                taken.update(option.targets)
            continue
        beds = [b for b in targets.beds_of_house[targets.site_ids[option.site]] if b not in taken]
        found = best_bed_assignment([scores_of(pairs, m) for m in option.members], sorted(beds))
        if found is None:
            seated.append(None)
            continue
        taken.update(found[1])
        seated.append(GroupOption(option.group, option.site, option.members, found[1], found[0], True))
    return seated
