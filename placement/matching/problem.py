"""A compiled instance: youth and targets as arrays, and every feasible pair with its score."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np

from placement.matching.arrays import (
    Int32s,
    Ints,
    TargetArrays,
    YouthArrays,
    compile_targets,
    compile_youth,
)
from placement.matching.rules import blocks, feasible
from placement.matching.schema import Instance, Target, Youth
from placement.matching.score import score_terms, score_total
from placement.matching.weights import Weights


@dataclass(frozen=True, slots=True)
class PairTable:
    """Every feasible (youth, target) pair and its score, sorted by youth then target."""

    y: Int32s
    t: Int32s
    score: Int32s
    start: Ints
    """Row pointers: youth ``i``'s pairs are ``start[i]:start[i + 1]``."""

    def __len__(self) -> int:
        return len(self.y)

    def row(self, i: int) -> slice:
        return slice(int(self.start[i]), int(self.start[i + 1]))

    def per_youth(self, reduce: np.ufunc, values: Ints | Int32s, empty: int = 0) -> Ints:
        """``reduce`` (``np.maximum``, ``np.minimum``) over each youth's pairs' ``values``, and
        ``empty`` too (so it is the result for a youth without any pair)."""
        result = np.full(len(self.start) - 1, empty, dtype=np.int64)
        starts = self.start[:-1]
        nonempty = starts < self.start[1:]
        if len(values):
            result[nonempty] = reduce.reduceat(values, starts[nonempty])
        return np.asarray(reduce(result, empty), dtype=np.int64)

    def find(self, ys: Int32s, ts: Int32s) -> Ints:
        """Index of each pair ``(ys[i], ts[i])``; raises ValueError if one is not feasible."""
        keys = (self.y.astype(np.int64) << 32) | self.t
        wanted = (ys.astype(np.int64) << 32) | ts
        found = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        if len(wanted) and (not len(keys) or not np.array_equal(keys[found], wanted)):
            raise ValueError("not a feasible pair")
        return found.astype(np.int64)


@dataclass(frozen=True, slots=True)
class Problem:
    youth: YouthArrays
    targets: TargetArrays
    weights: Weights
    pairs: PairTable


def feasible_pairs(youth: YouthArrays, targets: TargetArrays, weights: Weights) -> PairTable:
    ys: list[Int32s] = []
    ts: list[Int32s] = []
    for block in blocks(youth, targets):
        rows, cols = np.nonzero(feasible(block))
        ys.append((rows + block.lo).astype(np.int32))
        ts.append(cols.astype(np.int32))
    y = np.concatenate(ys) if ys else np.zeros(0, dtype=np.int32)
    t = np.concatenate(ts) if ts else np.zeros(0, dtype=np.int32)
    score = score_total(score_terms(youth, targets, y, t, weights))
    start = np.searchsorted(y, np.arange(len(youth) + 1)).astype(np.int64)
    return PairTable(y=y, t=t, score=score, start=start)


def build_problem(
    youth: Iterable[Youth], targets: Iterable[Target], reference_date: date, weights: Weights
) -> Problem:
    target_arrays = compile_targets(targets, reference_date)
    youth_arrays = compile_youth(youth, target_arrays)
    pairs = feasible_pairs(youth_arrays, target_arrays, weights)
    return Problem(youth=youth_arrays, targets=target_arrays, weights=weights, pairs=pairs)


def problem_of(instance: Instance) -> Problem:
    return build_problem(instance.youth, instance.targets, instance.reference_date, instance.weights)
