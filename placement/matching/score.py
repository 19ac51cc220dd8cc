"""The soft score: integer terms for (youth, target) pairs, given as index vectors.

Closeness and the distance band are measured to the target's area point (its municipality's
centre when the instance gives one), never to its exact position: both are shown to roles that
may see only bands, and a score term finer than the band would locate a safe house.
"""

from __future__ import annotations

import numpy as np

from placement.core.geo import distance_band
from placement.matching.arrays import Floats, Int32s, TargetArrays, YouthArrays
from placement.matching.geo import km_from_dot
from placement.matching.schema import Assignment, ScoreTerms
from placement.matching.weights import Weights

TERMS: tuple[str, ...] = tuple(ScoreTerms.__struct_fields__)


def origin_km(youth: YouthArrays, ys: Int32s, points: Floats) -> Floats:
    """Great-circle distance from the origin of youth ``ys[i]`` to the unit vector ``points[i]``."""
    return km_from_dot(np.einsum("ij,ij->i", youth.xyz[ys], points))


def exact_km(youth: YouthArrays, targets: TargetArrays, ys: Int32s, ts: Int32s) -> Floats:
    """To the targets' exact positions: for the roles that may see them."""
    return origin_km(youth, ys, targets.xyz[ts])


def area_km(youth: YouthArrays, targets: TargetArrays, ys: Int32s, ts: Int32s) -> Floats:
    """To the targets' area points: what closeness and the band are measured on."""
    return origin_km(youth, ys, targets.area_xyz[ts])


def score_terms(
    youth: YouthArrays, targets: TargetArrays, ys: Int32s, ts: Int32s, weights: Weights
) -> dict[str, Int32s]:
    """Each term for each pair ``(ys[i], ts[i])``; the terms add up to the score."""
    km = area_km(youth, targets, ys, ts)
    nearness = np.clip(1.0 - km / youth.max_km[ys], 0.0, 1.0)
    extra = np.zeros(len(ys), dtype=np.int32)
    common_language = np.zeros(len(ys), dtype=np.bool_)
    for word in range(targets.services.shape[1]):
        spare = targets.services[ts, word] & ~youth.required[ys, word]
        extra += np.bitwise_count(spare).astype(np.int32)
    for word in range(targets.languages.shape[1]):
        common_language |= (targets.languages[ts, word] & youth.languages[ys, word]) != 0
    stale = targets.days_since_confirmed[ts] > weights.stale_after_days
    return {
        "closeness": np.floor(weights.closeness * nearness + 0.5).astype(np.int32),
        "extra_services": weights.extra_service * extra,
        "readiness": weights.readiness * targets.ready[ts].astype(np.int32),
        "language": weights.language * common_language.astype(np.int32),
        "same_region": weights.same_region * (youth.region[ys] == targets.region[ts]).astype(np.int32),
        "stale_availability": -weights.stale_availability * stale.astype(np.int32),
    }


def score_total(terms: dict[str, Int32s]) -> Int32s:
    total = np.zeros_like(terms[TERMS[0]])
    for name in TERMS:
        total += terms[name]
    return total


def breakdowns(terms: dict[str, Int32s]) -> list[ScoreTerms]:
    """The terms of each pair as a record."""
    columns = [terms[name].tolist() for name in TERMS]
    rows = zip(*columns, strict=True)
    return [ScoreTerms(**dict(zip(TERMS, row, strict=True))) for row in rows]


def assignments(
    youth: YouthArrays, targets: TargetArrays, ys: Int32s, ts: Int32s, weights: Weights, *, banded: bool
) -> list[Assignment]:
    """The pairs as result records: score, breakdown and distance (the band of the area distance
    always; the exact distance only when not ``banded``)."""
    terms = breakdowns(score_terms(youth, targets, ys, ts, weights))
    exact = exact_km(youth, targets, ys, ts).tolist()
    area = area_km(youth, targets, ys, ts).tolist()
    return [
        Assignment(
            youth_id=youth.youth[y].id,
            target_id=targets.targets[t].id,
            score=parts.total,
            terms=parts,
            distance_km=None if banded else round(km, 1),
            distance_band=distance_band(band_km),
        )
        for y, t, parts, km, band_km in zip(ys.tolist(), ts.tolist(), terms, exact, area, strict=True)
    ]
