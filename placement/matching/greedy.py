"""The greedy baseline: most urgent first, each takes its best. The bench compares against it, and
the batch solve starts from it, so that no answer is worse."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from placement.matching.arrays import Int32s
from placement.matching.groups import GroupOption, all_group_options, members_of
from placement.matching.problem import Problem


def greedy_by_urgency(problem: Problem) -> Int32s:
    """Each youth's target in the greedy plan, or -1."""
    return greedy_plan(problem, all_group_options(problem))


def greedy_plan(problem: Problem, options: Sequence[Sequence[GroupOption]]) -> Int32s:
    """Youth and sibling groups by urgency (most urgent first, then id) each take their
    highest-scoring target (a group: site, from its ``options``) with room left. Returns each
    youth's target or -1."""
    pairs, youth, targets = problem.pairs, problem.youth, problem.targets
    room = targets.capacity.astype(np.int64).copy()
    assigned = np.full(len(youth), -1, dtype=np.int32)
    members = members_of(youth.group, len(youth.group_ids))
    units: list[list[int]] = [[y] for y in np.flatnonzero(youth.group < 0).tolist()] + members
    units.sort(key=lambda unit: (-int(youth.urgency[unit].max()), unit[0]))
    by_score = np.lexsort((-pairs.score, pairs.y))  # stable: ties stay in target order
    for unit in units:
        if youth.group[unit[0]] < 0:
            y = unit[0]
            ranked = pairs.t[by_score[pairs.start[y] : pairs.start[y + 1]]]
            free = ranked[room[ranked] > 0]
            if len(free):
                assigned[y] = free[0]
                room[free[0]] -= 1
            continue
        for option in options[youth.group[unit[0]]]:
            need = np.bincount(np.array(option.targets), minlength=len(room))
            if (need <= room).all():
                room -= need
                assigned[unit] = option.targets
                break
    return assigned
