"""The hard constraints: named rules, each vectorised over a block of youth x all targets.

A rule answers "may this youth go to this target?" for a whole block at once (an array that
broadcasts to youth x targets), and for one failing pair it says why, with the values it
compared. Feasibility is the conjunction of all rules; explanations evaluate them one by one, so
the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from placement.matching.arrays import Bools, Floats, TargetArrays, YouthArrays
from placement.matching.geo import format_distance, km_from_dot
from placement.matching.schema import Target, Youth

BLOCK_CELLS = 1 << 21
"""Youth x target cells per block: bounds the memory of the dense intermediates (~20 MB)."""


@dataclass(slots=True)
class PairBlock:
    """Youth rows ``lo:hi`` against every target, with the dot products of their positions."""

    youth: YouthArrays
    targets: TargetArrays
    lo: int
    hi: int
    _dot: Floats | None = field(default=None, repr=False)

    @property
    def rows(self) -> slice:
        return slice(self.lo, self.hi)

    @property
    def shape(self) -> tuple[int, int]:
        return (self.hi - self.lo, len(self.targets))

    @property
    def dot(self) -> Floats:
        """Cosine of the angle between each youth's origin and each target."""
        if self._dot is None:
            self._dot = self.youth.xyz[self.rows] @ self.targets.xyz.T
        return self._dot

    def pairs_matrix(self, pairs: tuple[np.ndarray, np.ndarray]) -> Bools:
        """A dense block that is True at the listed (youth, target) pairs."""
        ys, ts = pairs
        out = np.zeros(self.shape, dtype=np.bool_)
        inside = (ys >= self.lo) & (ys < self.hi)
        out[ys[inside] - self.lo, ts[inside]] = True
        return out


def blocks(youth: YouthArrays, targets: TargetArrays) -> Iterator[PairBlock]:
    step = max(1, BLOCK_CELLS // max(1, len(targets)))
    for lo in range(0, len(youth), step):
        yield PairBlock(youth, targets, lo, min(len(youth), lo + step))


@dataclass(frozen=True, slots=True)
class Pair:
    """One youth and one target, for the words of an explanation."""

    youth: YouthArrays
    targets: TargetArrays
    y: int
    t: int
    banded: bool

    @property
    def person(self) -> Youth:
        return self.youth.youth[self.y]

    @property
    def target(self) -> Target:
        return self.targets.targets[self.t]

    def distance_from(self, xyz: Floats) -> str:
        """How far the target is from a point, as the role may see it: the exact distance, or
        the band of the distance to the target's area point, which reveals no more than its
        municipality (the rules themselves always judge the exact position)."""
        points = self.targets.area_xyz if self.banded else self.targets.xyz
        km = float(km_from_dot(np.dot(xyz, points[self.t])))
        return format_distance(km, banded=self.banded)


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    passes: Callable[[PairBlock], Bools]
    """True where the pair satisfies the rule; broadcasts to the block's shape."""
    detail: Callable[[Pair], str]
    """Why a failing pair fails, with the values compared."""


def _all_bits_in(needed: np.ndarray, offered: np.ndarray) -> Bools:
    """needed (b, w) and offered (n, w) masks -> (b, n): every needed bit is offered. Computed
    once per distinct set of needs in the block, which are few."""
    distinct, which = np.unique(needed, axis=0, return_inverse=True)
    ok = np.ones((distinct.shape[0], offered.shape[0]), dtype=np.bool_)
    for word in range(needed.shape[1]):
        ok &= (distinct[:, word, None] & ~offered[None, :, word]) == 0
    return ok[which.reshape(-1)]


def _capacity(b: PairBlock) -> Bools:
    return (b.targets.capacity > 0)[None, :]


def _age(b: PairBlock) -> Bools:
    age = b.youth.age[b.rows, None]
    return (age >= b.targets.min_age[None, :]) & (age <= b.targets.max_age[None, :])


def _gender(b: PairBlock) -> Bools:
    return _all_bits_in(b.youth.gender[b.rows], b.targets.genders)


def _services(b: PairBlock) -> Bools:
    return _all_bits_in(b.youth.required[b.rows], b.targets.services)


def _specialised(b: PairBlock) -> Bools:
    return ~b.youth.specialised[b.rows, None] | b.targets.ready[None, :]


def _kinship(b: PairBlock) -> Bools:
    return ~b.targets.kin_only[None, :] | b.pairs_matrix(b.youth.related)


def _distance(b: PairBlock) -> Bools:
    return b.dot >= b.youth.max_cos[b.rows, None]


def _outside_danger_zones(b: PairBlock) -> Bools:
    y = b.youth
    first, last = np.searchsorted(y.zone_youth, [b.lo, b.hi])
    if first == last:
        return np.ones((1, 1), dtype=np.bool_)
    inside = (y.zone_xyz[first:last] @ b.targets.xyz.T) >= y.zone_cos[first:last, None]
    owners = y.zone_youth[first:last] - b.lo
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    safe = np.ones(b.shape, dtype=np.bool_)
    safe[owners[starts]] = ~np.logical_or.reduceat(inside, starts, axis=0)
    return safe


def _not_excluded(b: PairBlock) -> Bools:
    return ~b.pairs_matrix(b.youth.excluded)


def _open(b: PairBlock) -> Bools:
    return b.targets.open[None, :]


def _licensed(b: PairBlock) -> Bools:
    return b.targets.licensed[None, :]


def _sibling_room(b: PairBlock) -> Bools:
    size = b.youth.group_size[b.rows, None]
    fits: Bools = (size == 1) | (size <= b.targets.group_room[None, :])
    return fits


def _capacity_detail(p: Pair) -> str:
    return f"no free capacity ({p.target.capacity} free)"


def _age_detail(p: Pair) -> str:
    t = p.target
    return (
        f"age {int(p.youth.age[p.y])} on {p.targets.reference_date.isoformat()} "
        f"outside accepted {t.min_age}-{t.max_age}"
    )


def _gender_detail(p: Pair) -> str:
    accepted = ", ".join(sorted(p.target.genders)) or "none"
    return f"gender {p.person.gender} not accepted (accepts {accepted})"


def _services_detail(p: Pair) -> str:
    missing = sorted(set(p.person.required_services) - set(p.target.services))
    return f"required services not offered: {', '.join(missing)}"


def _specialised_detail(p: Pair) -> str:
    return (
        f"specialised care required; {p.target.kind} household is not ready for it "
        f"(ready for: {', '.join(sorted(p.target.ready_levels)) or 'none'})"
    )


def _kinship_detail(p: Pair) -> str:
    return f"{p.target.kind} household takes only the youth related to it"


def _distance_detail(p: Pair) -> str:
    return f"distance {p.distance_from(p.youth.xyz[p.y])} > maximum {p.person.max_distance_km:g} km"


def _danger_zone_detail(p: Pair) -> str:
    zones = p.person.danger_zones
    first = int(np.searchsorted(p.youth.zone_youth, p.y))
    inside = []
    for k, zone in enumerate(zones):
        centre = p.youth.zone_xyz[first + k]
        if np.dot(centre, p.targets.xyz[p.t]) >= p.youth.zone_cos[first + k]:
            away = p.distance_from(centre)
            inside.append(f"danger zone {k + 1}: {away} from its centre ≤ radius {zone.radius_km:g} km")
    return "inside " + "; ".join(inside)


def _exclusion_detail(p: Pair) -> str:
    house = p.target.safe_house_id
    if house is not None and house in p.person.excluded_safe_houses:
        return f"safe house {house} is excluded for this youth"
    return f"{p.target.id} is excluded for this youth"


def _open_detail(p: Pair) -> str:
    kind = "bed" if p.target.kind == "safe_house_bed" else "household"
    return f"{kind} availability is {p.target.availability}"


def _licensed_detail(p: Pair) -> str:
    until = p.target.licensed_until
    on = p.targets.reference_date.isoformat()
    if until is None:
        return "household is not licensed"
    return f"licence expired {until.isoformat()} (before {on})"


def _sibling_room_detail(p: Pair) -> str:
    size = int(p.youth.group_size[p.y])
    room = int(p.targets.group_room[p.t])
    t = p.target
    if t.safe_house_id is not None:
        return f"sibling group of {size} needs {size} free beds; safe house has {room}"
    takes = "takes sibling groups" if t.takes_sibling_groups else "does not take sibling groups"
    return f"sibling group of {size} needs room for {size}; household {takes}, room {room}"


RULES: tuple[Rule, ...] = (
    Rule("capacity", _capacity, _capacity_detail),
    Rule("age", _age, _age_detail),
    Rule("gender", _gender, _gender_detail),
    Rule("services", _services, _services_detail),
    Rule("specialised_care", _specialised, _specialised_detail),
    Rule("kinship", _kinship, _kinship_detail),
    Rule("distance", _distance, _distance_detail),
    Rule("danger_zone", _outside_danger_zones, _danger_zone_detail),
    Rule("exclusion", _not_excluded, _exclusion_detail),
    Rule("availability", _open, _open_detail),
    Rule("licence", _licensed, _licensed_detail),
    Rule("sibling_room", _sibling_room, _sibling_room_detail),
)
RULE_NAMES: tuple[str, ...] = tuple(rule.name for rule in RULES)


def feasible(block: PairBlock) -> Bools:
    """Pairs of the block that satisfy every rule."""
    ok = np.ones(block.shape, dtype=np.bool_)
    for rule in RULES:
        ok &= rule.passes(block)
    return ok


def failures(block: PairBlock) -> Bools:
    """(rules, youth, targets): True where the pair fails the rule."""
    return np.stack([~np.broadcast_to(rule.passes(block), block.shape) for rule in RULES])
