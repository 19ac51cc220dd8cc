"""What the capacity reads answer: counts only, never a youth, a family, a person or an address."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from placement.core.schemas import Schema
from placement.core.tables import Table

Grouping = Literal["region", "county", "kind"]


class BedCounts(Schema):
    """Safe-house beds by status."""

    available: int = 0
    held: int = 0
    occupied: int = 0
    out_of_service: int = 0


class PlaceCounts(Schema):
    """Household places (children a home may take). The free places of homes with a valid licence
    fall in exactly one of the `free_in_*` counts."""

    licensed: int = 0
    """The capacity of homes whose licence is valid today."""
    held: int = 0
    occupied: int = 0
    free_in_open_homes: int = 0
    """In homes open today that confirmed their availability recently."""
    free_in_stale_homes: int = 0
    """In homes open today that have not confirmed their availability for the stale period."""
    free_in_paused_or_closed_homes: int = 0
    in_homes_with_expired_licence: int = 0
    """The capacity of homes whose (licensed or provisional) licence has expired."""


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
    """Of the youth awaiting: days since referral, or since their last placement ended."""
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
