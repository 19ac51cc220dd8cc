"""Synthetic instances on real places, for the bench and for tests.

Mixes follow the brief: ages 11-20, about 20% needing specialised care, about 30% with danger
zones, sibling groups of two or three, paused, closed and unlicensed households, kin and
biological homes for the youth they are related to. In the *scarce* variant the targets lean
away from the regions most youth come from, so that in those regions about twice as many youth
wait as fit: there joint matching matters.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Protocol

import numpy as np

from placement.matching.schema import DangerZone, Instance, Target, TargetKind, Youth
from placement.matching.weights import Weights

REFERENCE_DATE = date(2025, 6, 1)
GENDERS = ("female", "male", "nonbinary")
SERVICES = (
    "trauma_therapy",
    "mental_health",
    "substance_use",
    "medical",
    "education",
    "legal_advocacy",
    "survivor_mentor",
    "lgbtq_affirming",
    "pregnant_parenting",
    "interpreter",
    "secure_setting",
    "life_skills",
)
NEEDED = (0.4, 0.3, 0.1, 0.1, 0.3, 0.1, 0.1, 0.03, 0.03, 0.02, 0.05, 0.1)
SECOND_LANGUAGES = ("es", "pt", "ht", "zh", "vi", "km", "ar")
SECOND_LANGUAGE_SHARE = (0.5, 0.15, 0.12, 0.07, 0.07, 0.05, 0.04)
YOUTH_BY_REGION = {"Boston": 0.3, "Northern": 0.2, "Southern": 0.2, "Central": 0.15, "Western": 0.15}
SCARCE_TARGETS_BY_REGION = {
    "Boston": 0.08,
    "Northern": 0.1,
    "Southern": 0.32,
    "Central": 0.22,
    "Western": 0.28,
}
KM_PER_DEGREE = 111.2


class Place(Protocol):
    """A municipality with its region and centroid, as ``placement.reference`` gives them."""

    @property
    def name(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def lat(self) -> float: ...
    @property
    def lon(self) -> float: ...


class _Draw:
    """Random choices for one instance, all from one seeded generator."""

    def __init__(self, places: Sequence[Place], seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.by_region: dict[str, list[Place]] = defaultdict(list)
        for place in places:
            self.by_region[place.region].append(place)

    def place(self, weights: dict[str, float]) -> Place:
        regions = [r for r in sorted(weights) if r in self.by_region]
        p = np.array([weights[r] for r in regions])
        region = regions[int(self.rng.choice(len(regions), p=p / p.sum()))]
        candidates = self.by_region[region]
        return candidates[int(self.rng.integers(len(candidates)))]

    def near(self, lat: float, lon: float, km: float) -> tuple[float, float]:
        """A point at most ``km`` away, uniformly in the disc."""
        r, a = km * math.sqrt(self.rng.random()), 2 * math.pi * self.rng.random()
        dlat = r * math.cos(a) / KM_PER_DEGREE
        dlon = r * math.sin(a) / (KM_PER_DEGREE * math.cos(math.radians(lat)))
        return round(lat + dlat, 5), round(lon + dlon, 5)

    def subset(self, codes: Sequence[str], chances: Sequence[float]) -> tuple[str, ...]:
        hits = self.rng.random(len(codes)) < np.asarray(chances)
        return tuple(c for c, hit in zip(codes, hits, strict=True) if hit)

    def languages(self, second: float) -> tuple[str, ...]:
        spoken = ["en"] if self.rng.random() < 0.95 else []
        if self.rng.random() < second or not spoken:
            p = np.array(SECOND_LANGUAGE_SHARE)
            spoken.append(SECOND_LANGUAGES[int(self.rng.choice(len(p), p=p / p.sum()))])
        return tuple(spoken)

    def pick(self, options: Sequence[object], p: Sequence[float]) -> int:
        weights = np.asarray(p, dtype=np.float64)
        return int(self.rng.choice(len(options), p=weights / weights.sum()))


def _youth(draw: _Draw, n: int) -> list[Youth]:
    rng = draw.rng
    youth: list[Youth] = []
    while len(youth) < n:
        size = min(n - len(youth), 1 if rng.random() > 0.1 else int(rng.integers(2, 4)))
        home = draw.place(YOUTH_BY_REGION)
        group = f"sg-{len(youth):05d}" if size > 1 else None
        urgency = 1 + draw.pick(range(5), (0.1, 0.2, 0.35, 0.2, 0.15))
        eldest = int(rng.integers(11 + size - 1, 21))
        for k in range(size):
            age = eldest - 2 * k if size > 1 else eldest
            gender = GENDERS[draw.pick(GENDERS, (0.6, 0.35, 0.05))]
            needs = draw.subset(SERVICES, NEEDED)
            if gender == "nonbinary" and rng.random() < 0.8:
                needs = tuple(sorted({*needs, "lgbtq_affirming"}))
            zones = tuple(
                DangerZone(
                    **dict(zip(("lat", "lon"), draw.near(home.lat, home.lon, 30.0), strict=True)),
                    radius_km=float(rng.integers(3, 16)),
                )
                for _ in range(int(rng.integers(1, 3)) if rng.random() < 0.3 else 0)
            )
            houses = (f"sh-{int(rng.integers(10_000)):04d}",) if rng.random() < 0.05 else ()
            youth.append(
                Youth(
                    id=f"y-{len(youth):05d}",
                    date_of_birth=REFERENCE_DATE - timedelta(days=365 * age + int(rng.integers(0, 365))),
                    gender=gender,
                    origin_lat=home.lat,
                    origin_lon=home.lon,
                    region=home.region,
                    languages=draw.languages(0.3),
                    required_services=needs,
                    specialised_care=bool(rng.random() < 0.2),
                    sibling_group=group,
                    urgency=urgency,
                    max_distance_km=float((30, 50, 80, 120)[draw.pick(range(4), (2, 4, 3, 1))]),
                    danger_zones=zones,
                    excluded_safe_houses=houses,
                )
            )
    return youth


def _safe_house_beds(draw: _Draw, n: int, weights: dict[str, float]) -> list[Target]:
    rng = draw.rng
    beds: list[Target] = []
    while len(beds) < n:
        house = f"sh-{len(beds):04d}"
        place = draw.place(weights)
        lat, lon = draw.near(place.lat, place.lon, 3.0)
        genders = (("female",), ("male",), GENDERS, ("female", "nonbinary"))[
            draw.pick(range(4), (0.5, 0.2, 0.15, 0.15))
        ]
        young = rng.random() < 0.5
        services = tuple(sorted({"trauma_therapy", *draw.subset(SERVICES, [0.5] * 12)}))
        languages = draw.languages(0.5)
        for k in range(min(n - len(beds), int(rng.integers(3, 9)))):
            beds.append(
                Target(
                    id=f"{house}-b{k}",
                    kind="safe_house_bed",
                    safe_house_id=house,
                    lat=lat,
                    lon=lon,
                    region=place.region,
                    min_age=11 if young else 14,
                    max_age=17 if young else 20,
                    genders=genders,
                    services=services,
                    languages=languages,
                )
            )
    return beds


def _households(draw: _Draw, n: int, weights: dict[str, float], youth: Sequence[Youth]) -> list[Target]:
    rng = draw.rng
    homes: list[Target] = []
    kin_for = [y for y in youth if rng.random() < 0.15][: n // 10]
    for i in range(n):
        relative = kin_for[i] if i < len(kin_for) else None
        kind: TargetKind
        if relative is not None:
            kind = "kin" if rng.random() < 0.7 else "biological"
            lat, lon = draw.near(relative.origin_lat, relative.origin_lon, 25.0)
            region = relative.region
        else:
            kind = "foster" if rng.random() < 0.8 else "intensive_foster"
            place = draw.place(weights)
            lat, lon = draw.near(place.lat, place.lon, 4.0)
            region = place.region
        capacity = 1 + draw.pick(range(3), (0.55, 0.3, 0.15))
        low = (0, 6, 10, 12, 13)[draw.pick(range(5), (1, 1, 2, 2, 2))]
        high = max(low + 4, (12, 14, 16, 18, 20)[draw.pick(range(5), (1, 1, 2, 3, 3))])
        ready = rng.random() < {"intensive_foster": 0.7, "foster": 0.15}.get(kind, 0.05)
        licence = draw.pick(range(3), (0.9, 0.05, 0.05))
        homes.append(
            Target(
                id=f"hh-{i:05d}",
                kind=kind,
                lat=lat,
                lon=lon,
                region=region,
                capacity=capacity,
                min_age=low,
                max_age=min(high, 21),
                genders=(GENDERS, ("female",), ("male",))[draw.pick(range(3), (0.5, 0.3, 0.2))],
                services=draw.subset(SERVICES, [0.2] * 12),
                languages=draw.languages(0.3),
                ready_levels=("trafficking_specialized",) if ready else (),
                availability=("open", "paused", "closed")[draw.pick(range(3), (0.85, 0.1, 0.05))],
                licensed_until=(
                    REFERENCE_DATE + timedelta(days=int(rng.integers(1, 700))),
                    REFERENCE_DATE - timedelta(days=int(rng.integers(1, 200))),
                    None,
                )[licence],
                availability_confirmed_on=REFERENCE_DATE - timedelta(days=int(rng.integers(91))),
                related_youth=(relative.id,) if relative is not None else (),
                takes_sibling_groups=bool(capacity > 1 and rng.random() < 0.5),
            )
        )
    return homes


def generate(places: Sequence[Place], n_youth: int, n_targets: int, *, scarce: bool, seed: int) -> Instance:
    """A statewide instance: 15% of targets are safe-house beds, the rest households."""
    draw = _Draw(places, seed)
    youth = _youth(draw, n_youth)
    weights = SCARCE_TARGETS_BY_REGION if scarce else YOUTH_BY_REGION
    n_beds = round(n_targets * 0.15)
    targets = _safe_house_beds(draw, n_beds, weights) + _households(draw, n_targets - n_beds, weights, youth)
    return Instance(
        reference_date=REFERENCE_DATE, weights=Weights(), youth=tuple(youth), targets=tuple(targets)
    )
