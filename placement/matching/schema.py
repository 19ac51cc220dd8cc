"""The instance and result formats: msgspec Structs, read and written as JSON.

An *instance* is everything the engine needs to decide a case: a reference date, the weights,
the youth and the candidate targets. A *result* is what it decided. Both are documented in
``placement/matching/README.md``; codes (services, languages, genders, care levels) are plain
strings here, checked against the shared vocabulary at the API edge, not in the engine.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from placement.matching.weights import Weights

TargetKind = Literal["safe_house_bed", "foster", "kin", "intensive_foster", "biological"]
Availability = Literal["open", "paused", "closed"]

SAFE_HOUSE_BED: TargetKind = "safe_house_bed"
KIN_ONLY_KINDS: frozenset[str] = frozenset({"kin", "biological"})
SPECIALISED_CARE_LEVEL = "trafficking_specialized"

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Kilometres = Annotated[float, msgspec.Meta(gt=0, le=5000)]
Age = Annotated[int, msgspec.Meta(ge=0, le=30)]
Codes = tuple[str, ...]


class Record(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every instance and result Struct."""


class DangerZone(Record, frozen=True, kw_only=True):
    """A place a youth's placement must stay outside of: a point and a radius."""

    lat: Latitude
    lon: Longitude
    radius_km: Kilometres


class Youth(Record, frozen=True, kw_only=True):
    """A youth to place, with the safety constraints on where they may go."""

    id: Id
    date_of_birth: date
    gender: str
    origin_lat: Latitude
    origin_lon: Longitude
    region: str
    languages: Codes = ()
    required_services: Codes = ()
    specialised_care: bool = False
    sibling_group: Id | None = None
    urgency: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3
    max_distance_km: Kilometres = 80.0
    danger_zones: tuple[DangerZone, ...] = ()
    excluded_targets: tuple[Id, ...] = ()
    """Ids of beds or households this youth must not go to."""
    excluded_safe_houses: tuple[Id, ...] = ()
    """Ids of safe houses this youth must not go to: excludes every bed of each."""


class Target(Record, frozen=True, kw_only=True):
    """A safe-house bed (capacity 1) or a household (capacity = free slots)."""

    id: Id
    kind: TargetKind
    safe_house_id: Id | None = None
    """The safe house a bed belongs to; required for beds, absent for households."""
    lat: Latitude
    lon: Longitude
    area_lat: Latitude | None = None
    area_lon: Longitude | None = None
    """The centre of the target's municipality: closeness and the distance band are measured from
    it when given (so a score term reveals no more than the band); the hard rules (distance, danger
    zones) always use the exact ``lat``/``lon``. Both or neither; absent, the exact point."""
    region: str
    capacity: Annotated[int, msgspec.Meta(ge=0, le=100)] = 1
    min_age: Age = 0
    max_age: Age = 21
    genders: Codes = ()
    """Genders accepted; empty accepts none."""
    services: Codes = ()
    languages: Codes = ()
    ready_levels: Codes = ()
    """Levels of care the household's caregivers are trained for; safe houses count as ready."""
    availability: Availability = "open"
    licensed_until: date | None = None
    """Households only: the licence's expiry (None: unlicensed). Safe-house beds ignore it."""
    availability_confirmed_on: date | None = None
    """Households only: when the family last confirmed its availability."""
    related_youth: tuple[Id, ...] = ()
    """Kin and biological households only: the youth they are related to."""
    takes_sibling_groups: bool = False

    def __post_init__(self) -> None:
        if (self.kind == SAFE_HOUSE_BED) != (self.safe_house_id is not None):
            raise ValueError("safe_house_id is required for beds and only for beds")
        if self.kind == SAFE_HOUSE_BED and self.capacity > 1:
            raise ValueError("a bed holds one youth: capacity is 0 (taken) or 1 (free)")
        if self.min_age > self.max_age:
            raise ValueError("min_age must not exceed max_age")
        if (self.area_lat is None) != (self.area_lon is None):
            raise ValueError("area_lat and area_lon go together: give both or neither")


class Instance(Record, frozen=True, kw_only=True):
    """A case to solve: the youth, the candidate targets and how to weigh them."""

    reference_date: date
    """Ages, licences and confirmations are judged on this date."""
    weights: Weights = msgspec.field(default_factory=Weights)
    youth: tuple[Youth, ...]
    targets: tuple[Target, ...]

    def __post_init__(self) -> None:
        for things, what in ((self.youth, "youth"), (self.targets, "target")):
            ids = [thing.id for thing in things]
            if len(set(ids)) != len(ids):
                raise ValueError(f"{what} ids must be unique")


class ScoreTerms(Record, frozen=True, kw_only=True):
    """A score's breakdown: the terms add up to the score."""

    closeness: int
    extra_services: int
    readiness: int
    language: int
    same_region: int
    stale_availability: int

    @property
    def total(self) -> int:
        return (
            self.closeness
            + self.extra_services
            + self.readiness
            + self.language
            + self.same_region
            + self.stale_availability
        )


class Assignment(Record, frozen=True, kw_only=True):
    """One youth in one target, with its score and why."""

    youth_id: str
    target_id: str
    score: int
    terms: ScoreTerms
    distance_km: float | None
    """Exact distance; None for the roles that see only the band."""
    distance_band: str


class Proposal(Record, frozen=True, kw_only=True):
    """A ranked option for a youth or a whole sibling group, in one household or safe house."""

    rank: int
    site_id: str
    """The household, or the safe house whose beds the assignments take."""
    score: int
    assignments: tuple[Assignment, ...]


class RuleCount(Record, frozen=True, kw_only=True):
    """How many candidates a hard constraint removed."""

    rule: str
    failed: int
    """Candidates that fail this rule (and maybe others)."""
    only: int
    """Candidates that fail this rule and no other."""


class RuleFailure(Record, frozen=True, kw_only=True):
    """A hard constraint a pair fails, with the values it compared."""

    rule: str
    detail: str


class NearMiss(Record, frozen=True, kw_only=True):
    """A target that fails exactly one rule."""

    target_id: str
    failure: RuleFailure


class NoMatch(Record, frozen=True, kw_only=True):
    """Why a youth has no feasible target, or why a sibling group has no shared one."""

    youth_id: str
    candidates: int
    feasible: int
    rule_counts: tuple[RuleCount, ...]
    near_misses: tuple[NearMiss, ...]
    summary: str


class Ranking(Record, frozen=True, kw_only=True, tag="ranking"):
    """Ranked proposals for one youth or one sibling group."""

    youth_ids: tuple[str, ...]
    proposals: tuple[Proposal, ...]
    no_match: tuple[NoMatch, ...]


class Batch(Record, frozen=True, kw_only=True, tag="batch"):
    """A joint assignment of many youth, with the bound that shows how good it is."""

    status: Literal["optimal", "effort_limit", "time_limit"]
    """``optimal``: the bound is met. ``effort_limit``: the deterministic budget (``effort``, and
    the engine's fixed limits on rounds and on what settling takes on) ended the search first; the
    same instance gives the same answer on any machine. ``time_limit``: the wall-clock cap cut a
    step short; another run may answer differently. Either way the bound holds and the plan is at
    least the greedy baseline."""
    placed: int
    priority: int
    """Placed youth weighted by urgency: the sum of ``urgency_base + urgency``."""
    score: int
    objective: int
    """``priority * scale + score``: lexicographic, priority first."""
    scale: int
    bound: int
    """A proven upper bound on the objective."""
    gap: float
    """``(bound - objective) / bound``; 0 when proven optimal."""
    assignments: tuple[Assignment, ...]
    unplaced: tuple[str, ...]
    no_match: tuple[NoMatch, ...]
    """Unplaced youth without a single feasible target, and why."""
    seconds: float


Result = Ranking | Batch


class WhyNot(Record, frozen=True, kw_only=True):
    """Why a youth is or is not proposed a target."""

    youth_id: str
    target_id: str
    feasible: bool
    failures: tuple[RuleFailure, ...]
    score: int | None = None
    terms: ScoreTerms | None = None
    rank: int | None = None
    """1-based place among the youth's feasible targets."""
    feasible_count: int = 0
    beaten_by: tuple[Assignment, ...] = ()
    """The targets ranked above it (at most a few)."""


def read_instance(path: Path) -> Instance:
    return msgspec.json.decode(path.read_bytes(), type=Instance)


def encode(value: Instance | Result | WhyNot) -> bytes:
    """Pretty JSON with a trailing newline."""
    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"
