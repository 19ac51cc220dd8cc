"""Capacity counts at an instant, in three set-based statements: beds, households, youth.

Each statement groups by the asked grouping and by nothing (the statewide totals) at once
(GROUPING SETS), so the totals are the same rows' sums, counted by PostgreSQL. The instant is a
parameter, not `now()`: the same statements count the present for `GET /capacity` and a past day
for the backfill, from the placements' own timestamps (`in_effect_at`). What the database keeps
no history of is taken as it is now (see `placement.capacity.history`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Select,
    SQLColumnExpression,
    and_,
    case,
    extract,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from caregivers.households.models import KINDS, PLACEABLE_LICENCES, Household
from caregivers.training.readiness import ready_levels
from placement.capacity.schemas import (
    BedCounts,
    CapacityOut,
    CapacityRow,
    Grouping,
    PlaceCounts,
    ReadyHomes,
    YouthCounts,
)
from placement.core.resources import Resources
from placement.matching.schema import SAFE_HOUSE_BED
from placement.placements.models import Placement, confirmed_by, in_effect_at
from placement.reference.models import County, Municipality, Region
from placement.reference.places import place_names
from placement.safehouses.models import Bed, SafeHouse
from placement.youth.models import Youth

TARGET_KINDS = (SAFE_HOUSE_BED, *KINDS)
STATEWIDE = "statewide"
Counts = Mapping[Any, Any]
Query = Select[*tuple[Any, ...]]


COUNTED = "capacity.households_counted"
"""Where a transaction keeps the households' counts it has read (`count_households`)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """What a count is judged on: an instant (in the program's zone: its date is the day licences,
    pauses and training are judged on) and the settings that shape it. The present is counted at
    the database's own now (the transaction's start, one instant for every statement, whatever the
    service's clock says); a `past` reading at `at` itself, from the records' timestamps."""

    at: datetime
    stale_after_days: int
    counts_self_reported: bool
    past: bool = False


async def no_jit(session: AsyncSession) -> None:
    """Compile no JIT code for these statements: their estimated cost passes the threshold at a
    few thousand homes, and compiling took longer than running them (221 ms with, 112 without)."""
    await session.execute(text("SET LOCAL jit = off"))


def reading_now(resources: Resources) -> Reading:
    settings = resources.settings
    return Reading(resources.clock(), settings.stale_after_days, settings.readiness_counts_self_reported)


async def count_capacity(session: AsyncSession, by: Grouping, reading: Reading) -> CapacityOut:
    """Beds, household places, ready homes and youth, per region, county or kind, and statewide."""
    await no_jit(session)
    groups = await _groups(session, by)
    beds = await _grouped(session, _beds(by, reading))
    homes = await count_households(session, by, reading)
    youth = await _grouped(session, _youth(by, reading))
    rows = [_row(key, name, by, beds, homes, youth) for key, name in groups]
    statewide = _row(None, STATEWIDE, by, beds, homes, youth)
    return CapacityOut(by=by, as_of=reading.at, rows=rows, statewide=statewide)


async def _groups(session: AsyncSession, by: Grouping) -> list[tuple[Any, str]]:
    """Every region, county or kind, so that one with nothing in it still has its row of zeros."""
    if by == "kind":
        return [(kind, kind) for kind in TARGET_KINDS]
    return await place_names(session, Region if by == "region" else County)


async def count_households(session: AsyncSession, by: Grouping, reading: Reading) -> dict[Any, Counts]:
    """The households' counts per group (None: statewide), as `count_capacity` has them; counted
    once per transaction for the same reading (the dashboard's capacity and training coverage
    both need the regions' counts, and the statement is the dearest of the counts)."""
    counted: dict[tuple[Grouping, Reading], dict[Any, Counts]] = session.info.setdefault(COUNTED, {})
    if (by, reading) not in counted:
        counted[by, reading] = await _grouped(session, _households(by, reading))
    return counted[by, reading]


def _key(by: Grouping, kind: SQLColumnExpression[str]) -> SQLColumnExpression[Any]:
    """The column a statement groups by: the municipality's region or county, or the kind."""
    return {"region": Municipality.region_id, "county": Municipality.county_id, "kind": kind}[by]


def _grouping_sets(query: Query, key: SQLColumnExpression[Any]) -> Query:
    """`query` grouped by `key` and by nothing at once; its `total` column tells the two apart."""
    return query.add_columns(key.label("key"), (func.grouping(key) == 1).label("total")).group_by(
        func.grouping_sets(tuple_(key), tuple_())
    )


async def _grouped(session: AsyncSession, query: Query) -> dict[Any, Counts]:
    """The statement's rows by key; the statewide row under None."""
    found: dict[Any, Counts] = {}
    for row in (await session.execute(query)).mappings():
        if row["total"]:
            found[None] = row
        elif row["key"] is not None:
            found[row["key"]] = row
    return found


def _at(reading: Reading) -> ColumnElement[datetime]:
    return literal(reading.at, DateTime(timezone=True)) if reading.past else func.now()


def _day(reading: Reading) -> ColumnElement[Any]:
    return literal(reading.at.date(), Date)


def _beds(by: Grouping, reading: Reading) -> Query:
    at = _at(reading)
    out = or_(
        and_(
            Bed.out_of_service_reason.is_not(None),
            or_(Bed.out_of_service_since.is_(None), Bed.out_of_service_since <= at),
        ),
        Bed.active.is_(False),
        SafeHouse.active.is_(False),
    )
    status = case(
        (out, literal("out_of_service")),
        (Placement.id.is_(None), literal("available")),
        (confirmed_by(at), literal("occupied")),
        else_=literal("held"),
    )
    query = (
        select(*(func.count().filter(status == name).label(name) for name in BedCounts.__struct_fields__))
        .select_from(Bed)
        .join(SafeHouse, SafeHouse.id == Bed.safe_house_id)
        .join(Municipality, Municipality.id == SafeHouse.municipality_id)
        .outerjoin(Placement, and_(Placement.bed_id == Bed.id, in_effect_at(at)))
        .where(Bed.created_at <= at)
    )
    return _grouping_sets(query, _key(by, literal(SAFE_HOUSE_BED)))


def _households(by: Grouping, reading: Reading) -> Query:
    at, day = _at(reading), _day(reading)
    taken = (
        select(
            Placement.household_id,
            func.count().filter(confirmed_by(at)).label("occupied"),
            func.count().filter(or_(Placement.confirmed_at.is_(None), ~confirmed_by(at))).label("held"),
        )
        .where(Placement.household_id.is_not(None), in_effect_at(at))
        .group_by(Placement.household_id)
        .subquery("taken")
    )
    held, occupied = func.coalesce(taken.c.held, 0), func.coalesce(taken.c.occupied, 0)
    placeable = Household.licence_status.in_(PLACEABLE_LICENCES)
    homes = (
        select(
            _key(by, Household.kind).label("home_key"),
            Household.capacity,
            held.label("held"),
            occupied.label("occupied"),
            func.greatest(Household.capacity - held - occupied, 0).label("free"),
            and_(placeable, Household.licence_expires_on >= day).label("valid"),
            and_(placeable, Household.licence_expires_on < day).label("expired"),
            ~placeable.label("unlicensed"),
            or_(
                Household.availability == "open",
                and_(Household.availability == "paused", Household.paused_until <= day),
            ).label("open"),
            or_(
                Household.availability_confirmed_at.is_(None),
                Household.availability_confirmed_at < at - timedelta(days=reading.stale_after_days),
            ).label("stale"),
            ready_levels(reading.counts_self_reported, reading.at.date()).label("ready"),
        )
        .join(Municipality, Municipality.id == Household.municipality_id)
        .outerjoin(taken, taken.c.household_id == Household.id)
        .where(Household.created_at <= at)
        .subquery("homes")
    )
    c = homes.c

    def places(where: ColumnElement[bool], what: ColumnElement[int] = c.free) -> ColumnElement[int]:
        return func.coalesce(func.sum(what).filter(where), 0).cast(Integer)

    query = select(
        func.count().label("households"),
        places(c.valid, c.capacity).label("licensed"),
        places(c.valid, c.held).label("held"),
        places(c.valid, c.occupied).label("occupied"),
        places(and_(c.valid, c.open, ~c.stale)).label("free_in_open_homes"),
        places(and_(c.valid, c.open, c.stale)).label("free_in_stale_homes"),
        places(and_(c.valid, ~c.open)).label("free_in_paused_or_closed_homes"),
        places(c.expired, c.capacity).label("in_homes_with_expired_licence"),
        places(c.unlicensed, c.capacity).label("in_unlicensed_homes"),
        *(
            func.count().filter(c.valid, literal(level) == func.any(c.ready)).label(level)
            for level in ReadyHomes.__struct_fields__
        ),
    ).select_from(homes)
    return _grouping_sets(query, c.home_key)


def _youth(by: Grouping, reading: Reading) -> Query:
    at = _at(reading)
    earlier = aliased(Placement)
    last_closed = (
        select(func.max(earlier.closed_at))
        .where(earlier.youth_id == Youth.id, earlier.confirmed_at <= at, earlier.closed_at <= at)
        .scalar_subquery()
    )
    waited_days = extract("epoch", at - func.greatest(Youth.created_at, last_closed)) / 86400
    status = case(
        (Placement.id.is_(None), literal("awaiting")),
        (confirmed_by(at), literal("placed")),
        else_=literal("held"),
    )
    kind = case((Placement.bed_id.is_not(None), literal(SAFE_HOUSE_BED)), else_=Household.kind)
    awaiting = status == "awaiting"

    def wait(fraction: float) -> ColumnElement[float]:
        return func.percentile_cont(fraction).within_group(waited_days.cast(Float)).filter(awaiting)

    query = (
        select(
            func.count().filter(awaiting).label("awaiting"),
            func.count().filter(status == "held").label("held"),
            func.count().filter(status == "placed").label("placed"),
            wait(0.5).label("median_wait_days"),
            wait(0.9).label("p90_wait_days"),
        )
        .select_from(Youth)
        .join(Municipality, Municipality.id == Youth.origin_municipality_id)
        .outerjoin(Placement, and_(Placement.youth_id == Youth.id, in_effect_at(at)))
        .outerjoin(Household, Household.id == Placement.household_id)
        .where(Youth.created_at <= at, or_(Youth.exited_at.is_(None), Youth.exited_at > at))
    )
    return _grouping_sets(query, _key(by, kind))


def _row(
    key: Any,
    name: str,
    by: Grouping,
    beds: dict[Any, Counts],
    homes: dict[Any, Counts],
    youth: dict[Any, Counts],
) -> CapacityRow:
    """One row of the answer from the three statements' rows under `key` (None: statewide)."""
    home = homes.get(key, {})
    people = dict(youth.get(key, {}))
    if by == "kind" and key is not None:  # the awaiting have no kind: statewide only
        people.update(awaiting=None, median_wait_days=None, p90_wait_days=None)
    return CapacityRow(
        group=name,
        id=key if isinstance(key, uuid.UUID) else None,
        beds=BedCounts(**_fields(BedCounts.__struct_fields__, beds.get(key, {}))),
        households=home.get("households", 0),
        places=PlaceCounts(**_fields(PlaceCounts.__struct_fields__, home)),
        ready_homes=ReadyHomes(**_fields(ReadyHomes.__struct_fields__, home)),
        youth=YouthCounts(**_fields(YouthCounts.__struct_fields__, people)),
    )


def _fields(names: Iterable[str], counts: Counts) -> dict[str, Any]:
    found = {name: counts[name] for name in names if name in counts}
    return {name: round(v, 2) if isinstance(v, float) else v for name, v in found.items()}
