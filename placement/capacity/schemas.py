"""What the capacity reads answer: counts only, never a youth, a family, a person or an address."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from placement.capacity.scenarios import RegionName
from placement.core.schemas import Age, Codes, Schema
from placement.core.tables import Table
from placement.core.vocabulary import CareLevel, Gender

Grouping = Literal["region", "county", "kind"]


class BedCounts(Schema):
    """Safe-house beds by status."""

    available: int = 0
    held: int = 0
    occupied: int = 0
    out_of_service: int = 0


class PlaceCounts(Schema):
    """Household places (children a home may take). Every home's capacity falls in exactly one of
    `licensed`, `in_homes_with_expired_licence` and `in_unlicensed_homes`; a licensed home's in
    exactly one of `held`, `occupied` and the `free_in_*` counts."""

    licensed: int = 0
    """The capacity of homes whose licence is valid today."""
    held: int = 0
    """Held in homes with a valid licence."""
    occupied: int = 0
    """Occupied in homes with a valid licence."""
    free_in_open_homes: int = 0
    """In homes open today that confirmed their availability recently."""
    free_in_stale_homes: int = 0
    """In homes open today that have not confirmed their availability for the stale period."""
    free_in_paused_or_closed_homes: int = 0
    in_homes_with_expired_licence: int = 0
    """The capacity of homes whose (licensed or provisional) licence has expired."""
    in_unlicensed_homes: int = 0
    """The capacity of homes whose licence is pending, suspended or revoked."""


class ReadyHomes(Schema):
    """Homes with a valid licence whose primary caregivers are trained for each level of care."""

    standard: int = 0
    trafficking_specialized: int = 0


class YouthCounts(Schema):
    """Youth by status. A youth counts where they come from (their origin's region and county);
    by kind, where they are held or placed, so the awaiting and their waits are statewide only."""

    awaiting: int | None = 0
    held: int = 0
    placed: int = 0
    median_wait_days: float | None = None
    """Of the youth awaiting: days since referral, or since their last placement (one they moved
    into, not a hold that lapsed or was cancelled) ended."""
    p90_wait_days: float | None = None


class CapacityRow(Schema):
    """The counts of one region, county or kind of target (or statewide)."""

    group: str
    """The region's or county's name, the kind of target, or `statewide`."""
    id: uuid.UUID | None
    """The region's or county's id."""
    beds: BedCounts
    households: int
    places: PlaceCounts
    ready_homes: ReadyHomes
    youth: YouthCounts


class CapacityOut(Table):
    totals_field = "statewide"

    by: Grouping
    as_of: datetime
    rows: list[CapacityRow]
    statewide: CapacityRow


Every = Literal["day", "week"]
Source = Literal["live", "backfill"]


class HistoryRow(CapacityRow):
    """A region's, county's or kind's counts (or the statewide ones) on one day of the series."""

    period: date
    """The day, or the Monday of the week."""
    day: date
    """The day counted: a week shows its last day on record."""
    source: Source
    """`backfill`: rebuilt afterwards, from what the database keeps of that day (see the docs)."""


class CapacityHistory(Table):
    by: Grouping
    every: Every
    first: date
    last: date
    rows: list[HistoryRow]


Scope = Literal["statewide", "region", "county"]
Direction = Literal["at_least", "at_most"]
MetricName = Literal[
    "safe_house_beds",
    "safe_house_beds_available",
    "households",
    "household_places_licensed",
    "household_places_free",
    "homes_ready_standard",
    "homes_ready_trafficking_specialized",
    "youth_awaiting",
    "median_wait_days",
    "p90_wait_days",
]
TargetValue = Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Note = Annotated[str, msgspec.Meta(max_length=2000)]


class TargetCreate(Schema):
    """A goal: `metric` in `scope` (the state, or one region or county) reaches `value` by `due_on`."""

    title: Title
    metric: MetricName
    scope: Scope
    value: TargetValue
    due_on: date
    region_id: uuid.UUID | None = None
    """The region, for a regional target (and only then)."""
    county_id: uuid.UUID | None = None
    """The county, for a county target (and only then)."""
    note: Note | None = None


class TargetUpdate(Schema):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    value: TargetValue | msgspec.UnsetType = msgspec.UNSET
    due_on: date | msgspec.UnsetType = msgspec.UNSET
    note: Note | msgspec.UnsetType | None = msgspec.UNSET


class TargetOut(Schema):
    id: uuid.UUID
    title: str
    metric: MetricName
    metric_label: str
    direction: Direction
    """`at_least`: reached at or above the value; `at_most`: at or below it (a wait, the awaiting)."""
    scope: Scope
    place: str
    """The region's or county's name, or `statewide`."""
    region_id: uuid.UUID | None
    county_id: uuid.UUID | None
    value: float
    due_on: date
    note: str | None
    current: float | None
    trend_per_day: float | None
    """The least-squares slope of the daily values over the last 30 days and today (None with fewer
    than two days on record)."""
    trend_days: int
    """How many days the trend is drawn through."""
    projected: float | None
    """The current value carried to the due date along the trend (the current value without one)."""
    reached: bool
    on_track: bool
    """The projected value reaches the target by its due date."""
    created_at: datetime
    updated_at: datetime


class TargetList(Table):
    as_of: datetime
    rows: list[TargetOut]


class NeedRow(Schema):
    """The youth of a region (their origin's) awaiting placement, with and without a feasible
    target now, and for those without, the rule that blocks most of their candidates alone."""

    group: str
    """The region's name, or `statewide`."""
    awaiting: int
    with_feasible_target: int
    without_feasible_target: int
    blocked_by: dict[str, int]
    """Youth without a feasible target, by blocking rule: the engine's rule that fails alone at the
    most of their candidates, `several` (each candidate fails two rules or more) or
    `no_candidates`."""
    missing_services: dict[str, int]
    """Youth blocked by `services`, by each service their nearest candidates lack."""


class UnmetNeedOut(Table):
    totals_field = "statewide"

    as_of: datetime
    rows: list[NeedRow]
    statewide: NeedRow


class TrainingChange(Schema):
    """The households of a region that lack only training for a level of care complete it."""

    region: RegionName
    level: CareLevel = "trafficking_specialized"


class NewBedsChange(Schema):
    """Beds of one new safe house in a municipality (at its centre), taking these youth."""

    municipality_id: uuid.UUID
    beds: Annotated[int, msgspec.Meta(ge=1, le=500)]
    min_age: Age
    max_age: Age
    genders: Annotated[list[Gender], msgspec.Meta(min_length=1, max_length=3)]
    services: Codes = []
    languages: Codes = []


class ReopeningChange(Schema):
    """Paused homes reopen: in a region, or (no region) statewide."""

    region: RegionName | None = None


class WhatIfCreate(Schema):
    """A scenario: any of the changes, together. Nothing is written to anyone's record."""

    training: TrainingChange | None = None
    new_beds: NewBedsChange | None = None
    reopening: ReopeningChange | None = None


Breakdown = Literal["all", "urgency", "region", "blocking"]
WhatIfStatus = Literal["queued", "solving", "answered", "failed"]


class WhatIfRow(Schema):
    """One line of a what-if's answer: placed youth before and after, overall, by urgency or by
    region; or, for youth with no feasible target before, how many a blocking rule held then and
    what holds them after (`feasible`: nothing)."""

    breakdown: Breakdown
    group: str
    """The urgency (1-5), the region, or the region of a blocking row."""
    awaiting: int | None = None
    placed_before: int | None = None
    placed_after: int | None = None
    blocked_before: str | None = None
    blocked_after: str | None = None
    youth: int | None = None


class WhatIfOut(Table):
    totals_field = "placed"

    id: uuid.UUID
    status: WhatIfStatus
    scenario: WhatIfCreate
    requested_at: datetime
    answered_at: datetime | None
    failure_reason: str | None
    solved_before: str | None
    solved_after: str | None
    """How each joint solve ended: `optimal`, or stopped by its budget (`effort_limit`) or its time
    cap (`time_limit`), when a difference may be the budget's rather than the scenario's."""
    households_trained: int | None
    households_reopened: int | None
    beds_added: int | None
    rows: list[WhatIfRow]
    placed: WhatIfRow | None
    """Every awaiting youth: placed before and after."""


class WhatIfSummary(Schema):
    """A what-if in the list of those asked: when and by whom, what it changes, where it stands
    (its answer is at `GET /capacity/what-if/{id}`)."""

    id: uuid.UUID
    status: WhatIfStatus
    scenario: WhatIfCreate
    requested_at: datetime
    requested_by: str
    """The username of who asked it."""
    answered_at: datetime | None


class CoverageRow(Schema):
    """A region's (or the state's) households and how far their caregivers' training goes."""

    group: str
    id: uuid.UUID | None
    households: int
    caregivers: int
    finished_series: dict[str, int]
    """Caregivers who finished each caregiver series (every published module, counting today)."""
    ready_homes: ReadyHomes
    completions_lapsing_within_90_days: int
    """Completions that count today and expire within 90 days."""


class TrainingCoverageOut(Table):
    totals_field = "statewide"

    as_of: datetime
    rows: list[CoverageRow]
    statewide: CoverageRow
