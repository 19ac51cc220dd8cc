"""Youth and targets compiled to NumPy arrays: one row each, in id order.

Sorting by id makes every later tie-break, and so every answer, independent of the order the
instance lists things in. Sets of codes become bit masks: a required service is offered when its
bit is set. Bit 0 of a mask stands for codes no target names, so a youth who needs such a code
fails its rule everywhere instead of being silently matched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from placement.matching.geo import cos_of_distance, unit_vectors
from placement.matching.schema import (
    KIN_ONLY_KINDS,
    SAFE_HOUSE_BED,
    SPECIALISED_CARE_LEVEL,
    Target,
    Youth,
)

MAX_DISTANCE_SLACK_KM = 0.001
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Int32s = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]
Masks = npt.NDArray[np.uint64]

NEVER_CONFIRMED_DAYS = 1_000_000


@dataclass(frozen=True, slots=True)
class Codebook:
    """Bit positions for one family of codes (services, languages or genders)."""

    bits: dict[str, int]
    words: int

    @classmethod
    def of(cls, codes: Iterable[str]) -> Codebook:
        ordered = sorted(set(codes))
        return cls(bits={c: i + 1 for i, c in enumerate(ordered)}, words=len(ordered) // 64 + 1)

    def masks(self, rows: Sequence[Iterable[str]]) -> Masks:
        """One mask row per set of codes; unknown codes set bit 0."""
        out = np.zeros((len(rows), self.words), dtype=np.uint64)
        for i, codes in enumerate(rows):
            for code in codes:
                bit = self.bits.get(code, 0)
                out[i, bit // 64] |= np.uint64(1 << (bit % 64))
        return out


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@dataclass(frozen=True, slots=True)
class TargetArrays:
    """Candidate targets in id order, with the code books youth are compiled against."""

    targets: tuple[Target, ...]
    index: dict[str, int]
    reference_date: date
    is_bed: Bools
    site: Int32s
    """The household itself, or the safe house of a bed: where a sibling group stays together."""
    site_ids: tuple[str, ...]
    xyz: Floats
    """Unit vectors of the exact positions: the hard rules (distance, danger zones) use these."""
    area_xyz: Floats
    """Unit vectors of the area points (the municipality's centre, or the exact position when the
    target names none): closeness and distance bands use these, so they reveal no exact position."""
    region: Int32s
    capacity: Int32s
    group_room: Int32s
    """How large a sibling group fits: a household's free slots if it takes groups (else 1), the
    number of free beds of a bed's safe house."""
    min_age: Int32s
    max_age: Int32s
    genders: Masks
    services: Masks
    languages: Masks
    ready: Bools
    kin_only: Bools
    open: Bools
    licensed: Bools
    days_since_confirmed: Int32s
    gender_book: Codebook
    service_book: Codebook
    language_book: Codebook
    regions: dict[str, int]
    related: dict[str, tuple[int, ...]]
    """Youth id -> the kin or biological households related to them."""
    beds_of_house: dict[str, tuple[int, ...]]

    def __len__(self) -> int:
        return len(self.targets)


def compile_targets(targets: Iterable[Target], reference_date: date) -> TargetArrays:
    ordered = tuple(sorted(targets, key=lambda t: t.id))
    n = len(ordered)
    gender_book = Codebook.of(g for t in ordered for g in t.genders)
    service_book = Codebook.of(s for t in ordered for s in t.services)
    language_book = Codebook.of(lang for t in ordered for lang in t.languages)
    regions = {r: i for i, r in enumerate(sorted({t.region for t in ordered}))}
    is_bed = np.array([t.kind == SAFE_HOUSE_BED for t in ordered], dtype=np.bool_)
    capacity = np.array([t.capacity for t in ordered], dtype=np.int32)
    site_of = [t.safe_house_id if t.safe_house_id is not None else t.id for t in ordered]
    site_ids = tuple(sorted(set(site_of)))
    site_index = {s: i for i, s in enumerate(site_ids)}
    site = np.array([site_index[s] for s in site_of], dtype=np.int32)
    free_beds = np.bincount(site[is_bed & (capacity > 0)], minlength=len(site_ids))
    takes_groups = np.array([t.takes_sibling_groups for t in ordered], dtype=np.bool_)
    group_room = np.where(
        is_bed, free_beds[site], np.where(takes_groups, capacity, np.minimum(capacity, 1))
    ).astype(np.int32)
    related: dict[str, list[int]] = defaultdict(list)
    beds_of_house: dict[str, list[int]] = defaultdict(list)
    for i, t in enumerate(ordered):
        if t.kind in KIN_ONLY_KINDS:
            for youth_id in t.related_youth:
                related[youth_id].append(i)
        if t.safe_house_id is not None:
            beds_of_house[t.safe_house_id].append(i)
    return TargetArrays(
        targets=ordered,
        index={t.id: i for i, t in enumerate(ordered)},
        reference_date=reference_date,
        is_bed=is_bed,
        site=site,
        site_ids=site_ids,
        xyz=unit_vectors(
            np.array([t.lat for t in ordered], dtype=np.float64),
            np.array([t.lon for t in ordered], dtype=np.float64),
        ).reshape(n, 3),
        area_xyz=unit_vectors(
            np.array([t.lat if t.area_lat is None else t.area_lat for t in ordered], dtype=np.float64),
            np.array([t.lon if t.area_lon is None else t.area_lon for t in ordered], dtype=np.float64),
        ).reshape(n, 3),
        region=np.array([regions[t.region] for t in ordered], dtype=np.int32),
        capacity=capacity,
        group_room=group_room,
        min_age=np.array([t.min_age for t in ordered], dtype=np.int32),
        max_age=np.array([t.max_age for t in ordered], dtype=np.int32),
        genders=gender_book.masks([t.genders for t in ordered]),
        services=service_book.masks([t.services for t in ordered]),
        languages=language_book.masks([t.languages for t in ordered]),
        ready=np.array(
            [t.kind == SAFE_HOUSE_BED or SPECIALISED_CARE_LEVEL in t.ready_levels for t in ordered],
            dtype=np.bool_,
        ),
        kin_only=np.array([t.kind in KIN_ONLY_KINDS for t in ordered], dtype=np.bool_),
        open=np.array([t.availability == "open" for t in ordered], dtype=np.bool_),
        licensed=np.array(
            [
                t.kind == SAFE_HOUSE_BED
                or (t.licensed_until is not None and t.licensed_until >= reference_date)
                for t in ordered
            ],
            dtype=np.bool_,
        ),
        days_since_confirmed=np.array(
            [_days_since_confirmed(t, reference_date) for t in ordered], dtype=np.int32
        ),
        gender_book=gender_book,
        service_book=service_book,
        language_book=language_book,
        regions=regions,
        related={k: tuple(v) for k, v in related.items()},
        beds_of_house={k: tuple(v) for k, v in beds_of_house.items()},
    )


def _days_since_confirmed(target: Target, day: date) -> int:
    """0 for beds (their state is derived from placements, never stale)."""
    if target.kind == SAFE_HOUSE_BED:
        return 0
    if target.availability_confirmed_on is None:
        return NEVER_CONFIRMED_DAYS
    return max(0, (day - target.availability_confirmed_on).days)


@dataclass(frozen=True, slots=True)
class YouthArrays:
    """Youth in id order, compiled against one set of targets."""

    youth: tuple[Youth, ...]
    index: dict[str, int]
    age: Int32s
    gender: Masks
    xyz: Floats
    max_km: Floats
    max_cos: Floats
    region: Int32s
    languages: Masks
    required: Masks
    specialised: Bools
    urgency: Int32s
    group: Int32s
    """Index into ``group_ids``, or -1 for a youth without siblings among these youth."""
    group_ids: tuple[str, ...]
    group_size: Int32s
    zone_youth: Int32s
    """Danger zones, sorted by youth: which youth each belongs to."""
    zone_xyz: Floats
    zone_cos: Floats
    excluded: tuple[Int32s, Int32s]
    """(youth, target) pairs excluded by id or by safe house."""
    related: tuple[Int32s, Int32s]
    """(youth, kin or biological household) pairs that are related."""

    def __len__(self) -> int:
        return len(self.youth)

    def take(self, rows: Int32s) -> YouthArrays:
        """These youth only (rows in increasing order), keeping their sibling group sizes."""
        new = np.full(len(self), -1, dtype=np.int32)
        new[rows] = np.arange(len(rows), dtype=np.int32)
        zones = np.flatnonzero(new[self.zone_youth] >= 0)

        def pairs(ys: Int32s, ts: Int32s) -> tuple[Int32s, Int32s]:
            kept = new[ys] >= 0
            return new[ys[kept]], ts[kept]

        youth = tuple(self.youth[i] for i in rows.tolist())
        return YouthArrays(
            youth=youth,
            index={y.id: i for i, y in enumerate(youth)},
            age=self.age[rows],
            gender=self.gender[rows],
            xyz=self.xyz[rows],
            max_km=self.max_km[rows],
            max_cos=self.max_cos[rows],
            region=self.region[rows],
            languages=self.languages[rows],
            required=self.required[rows],
            specialised=self.specialised[rows],
            urgency=self.urgency[rows],
            group=self.group[rows],
            group_ids=self.group_ids,
            group_size=self.group_size[rows],
            zone_youth=new[self.zone_youth[zones]],
            zone_xyz=self.zone_xyz[zones],
            zone_cos=self.zone_cos[zones],
            excluded=pairs(*self.excluded),
            related=pairs(*self.related),
        )


def compile_youth(youth: Iterable[Youth], targets: TargetArrays) -> YouthArrays:
    ordered = tuple(sorted(youth, key=lambda y: y.id))
    n = len(ordered)
    members: dict[str, list[int]] = defaultdict(list)
    for i, y in enumerate(ordered):
        if y.sibling_group is not None:
            members[y.sibling_group].append(i)
    group_ids = tuple(sorted(g for g, m in members.items() if len(m) > 1))
    group = np.full(n, -1, dtype=np.int32)
    group_size = np.ones(n, dtype=np.int32)
    for g, group_id in enumerate(group_ids):
        group[members[group_id]] = g
        group_size[members[group_id]] = len(members[group_id])
    zones = [(i, z) for i, y in enumerate(ordered) for z in y.danger_zones]
    max_km = np.array([y.max_distance_km for y in ordered], dtype=np.float64)
    excluded: list[tuple[int, int]] = []
    related: list[tuple[int, int]] = []
    for i, y in enumerate(ordered):
        excluded.extend((i, targets.index[t]) for t in y.excluded_targets if t in targets.index)
        # A safe house named among the excluded targets excludes all its beds, as if listed as such.
        for house in (
            *y.excluded_safe_houses,
            *(t for t in y.excluded_targets if t in targets.beds_of_house),
        ):
            excluded.extend((i, t) for t in targets.beds_of_house.get(house, ()))
        related.extend((i, t) for t in targets.related.get(y.id, ()))
    return YouthArrays(
        youth=ordered,
        index={y.id: i for i, y in enumerate(ordered)},
        age=np.array([age_on(y.date_of_birth, targets.reference_date) for y in ordered], np.int32),
        gender=targets.gender_book.masks([(y.gender,) for y in ordered]),
        xyz=unit_vectors(
            np.array([y.origin_lat for y in ordered], dtype=np.float64),
            np.array([y.origin_lon for y in ordered], dtype=np.float64),
        ).reshape(n, 3),
        max_km=max_km,
        # A metre of slack: float round-off on the sphere must not turn "exactly the maximum"
        # into a coin flip. Danger zones get none (there, erring means staying farther away).
        max_cos=cos_of_distance(max_km + MAX_DISTANCE_SLACK_KM),
        region=np.array([targets.regions.get(y.region, -1) for y in ordered], dtype=np.int32),
        languages=targets.language_book.masks([y.languages for y in ordered]),
        required=targets.service_book.masks([y.required_services for y in ordered]),
        specialised=np.array([y.specialised_care for y in ordered], dtype=np.bool_),
        urgency=np.array([y.urgency for y in ordered], dtype=np.int32),
        group=group,
        group_ids=group_ids,
        group_size=group_size,
        zone_youth=np.array([i for i, _ in zones], dtype=np.int32),
        zone_xyz=unit_vectors(
            np.array([z.lat for _, z in zones], dtype=np.float64),
            np.array([z.lon for _, z in zones], dtype=np.float64),
        ).reshape(len(zones), 3),
        zone_cos=cos_of_distance(np.array([z.radius_km for _, z in zones], dtype=np.float64)),
        excluded=_pair_arrays(excluded),
        related=_pair_arrays(related),
    )


def _pair_arrays(pairs: list[tuple[int, int]]) -> tuple[Int32s, Int32s]:
    array = np.array(sorted(set(pairs)), dtype=np.int32).reshape(-1, 2)
    return array[:, 0].copy(), array[:, 1].copy()
