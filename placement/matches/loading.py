"""The matcher's instance, built from the database: the youth asked about and every candidate, in
three statements whatever their number (youth, free beds, and households with the levels of care
they are ready for).

Candidates are what could take a youth now: free beds (a hold past its deadline does not count),
and every household with its free places (the engine itself rules out the paused, closed and
unlicensed ones, so it can say why). Positions are exact: the engine needs them; what a role may
see of its answer is decided when the answer is shown.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caregivers.households.models import PLACEABLE_LICENCES, Household
from caregivers.households.occupancy import taken_in
from caregivers.households.service import open_on, related_youth
from caregivers.training.readiness import ready_levels
from placement.matching.arrays import age_on
from placement.matching.schema import SAFE_HOUSE_BED, DangerZone, Instance, Target, Youth
from placement.matching.weights import Weights
from placement.placements.occupancy import places_taken
from placement.reference.models import Municipality, Region
from placement.reference.nearby import sql_distance_km
from placement.safehouses.models import Bed, SafeHouse
from placement.safehouses.status import only_free
from placement.youth.models import Youth as YouthRecord
from placement.youth.service import youth_status

NARROWING_SLACK_KM = 1.0
_AREA = (Municipality.lat.label("area_lat"), Municipality.lon.label("area_lon"))
"""The centre of the target's municipality: the engine measures closeness and bands from it."""


@dataclass(frozen=True, slots=True)
class Candidates:
    """Which targets to load: of `kinds` (all if empty), only the ids in `only` (if given), and,
    when `narrowed`, only those that pass the engine's own capacity, age, gender, services and
    distance rules for at least one of the youth. Narrowing in SQL drops nothing the engine could
    propose, so the proposals are the same; only a no-match, whose reasons count every candidate,
    needs them all."""

    kinds: Collection[str] = ()
    only: Collection[uuid.UUID] | None = None
    narrowed: bool = False


EVERY_CANDIDATE = Candidates()


async def load_instance(
    session: AsyncSession,
    youth_ids: Collection[uuid.UUID] | None,
    now: datetime,
    counts_self_reported: bool,
    weights: Weights | None = None,
    *,
    candidates: Candidates = EVERY_CANDIDATE,
    max_distance_km: float | None = None,
) -> Instance:
    """The youth `youth_ids` (None: every youth awaiting placement) and the candidate beds and
    households, judged on `now`'s day;
    `max_distance_km` tightens each youth's own maximum."""
    youth = await load_youth(session, youth_ids, max_distance_km)
    kinds = candidates.kinds
    home_kinds = [kind for kind in kinds if kind != SAFE_HOUSE_BED]
    fits = functools.partial(_may_take, youth=youth, day=now.date()) if candidates.narrowed else None
    beds, homes = [], []
    if not kinds or SAFE_HOUSE_BED in kinds:
        beds = await free_beds(session, fits, candidates.only)
    if not kinds or home_kinds:
        homes = await households(session, now, counts_self_reported, home_kinds, fits, candidates.only)
    return Instance(
        reference_date=now.date(),
        weights=weights or Weights(),
        youth=tuple(youth),
        targets=(*beds, *homes),
    )


async def load_snapshot(
    sessionmaker: async_sessionmaker[AsyncSession],
    youth_ids: Collection[uuid.UUID] | None,
    now: datetime,
    counts_self_reported: bool,
    *,
    candidates: Candidates = EVERY_CANDIDATE,
    max_distance_km: float | None = None,
) -> Instance:
    """`load_instance` in one snapshot of the database: its statements all see the same data."""
    async with sessionmaker() as session:
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return await load_instance(
            session,
            youth_ids,
            now,
            counts_self_reported,
            candidates=candidates,
            max_distance_km=max_distance_km,
        )


Narrowing = Callable[[type[SafeHouse] | type[Household]], ColumnElement[bool]]


def _may_take(place: type[SafeHouse] | type[Household], youth: list[Youth], day: date) -> ColumnElement[bool]:
    """A safe house or household that passes the engine's age, gender, services and distance
    rules for one of the youth at least (the distance with a kilometre to spare for rounding)."""
    return or_(
        false(),
        *(
            and_(
                place.min_age <= age_on(y.date_of_birth, day),
                place.max_age >= age_on(y.date_of_birth, day),
                place.genders.contains([y.gender]),
                place.services.contains(list(y.required_services)),
                sql_distance_km(
                    place.lat,
                    place.lon,
                    literal(math.radians(y.origin_lat)),
                    literal(math.radians(y.origin_lon)),
                    literal(math.cos(math.radians(y.origin_lat))),
                )
                <= y.max_distance_km + NARROWING_SLACK_KM,
            )
            for y in youth
        ),
    )


async def load_youth(
    session: AsyncSession, youth_ids: Collection[uuid.UUID] | None, max_distance_km: float | None = None
) -> list[Youth]:
    """The youth `youth_ids`, or (None) every youth awaiting placement."""
    chosen = youth_status() == "awaiting" if youth_ids is None else YouthRecord.id.in_(youth_ids)
    rows = await session.execute(
        select(YouthRecord, Region.name.label("region"))
        .join(Municipality, Municipality.id == YouthRecord.origin_municipality_id)
        .join(Region, Region.id == Municipality.region_id)
        .where(chosen)
        .order_by(YouthRecord.id)
    )
    return [engine_youth(record, region, max_distance_km) for record, region in rows]


def engine_youth(record: YouthRecord, region: str, max_distance_km: float | None = None) -> Youth:
    return Youth(
        id=str(record.id),
        date_of_birth=record.date_of_birth,
        gender=record.gender,
        origin_lat=record.origin_lat,
        origin_lon=record.origin_lon,
        region=region,
        languages=tuple(record.languages),
        required_services=tuple(record.required_services),
        specialised_care=record.specialised_care,
        sibling_group=record.sibling_group,
        urgency=record.urgency,
        max_distance_km=min(float(record.max_distance_km), max_distance_km or float("inf")),
        danger_zones=tuple(
            DangerZone(lat=zone["lat"], lon=zone["lon"], radius_km=zone["radius_km"])
            for zone in record.danger_zones
        ),
        excluded_targets=tuple(str(i) for i in record.excluded_household_ids),
        excluded_safe_houses=tuple(str(i) for i in record.excluded_safe_house_ids),
    )


async def free_beds(
    session: AsyncSession, fits: Narrowing | None = None, only: Collection[uuid.UUID] | None = None
) -> list[Target]:
    """Every bed free now (active, in service, in an active house, with no placement in effect),
    in houses that `fits` (if given), of the ids in `only` (if given)."""
    beds = only_free(
        select(
            Bed.id, SafeHouse.id.label("safe_house_id"), SafeHouse.lat, SafeHouse.lon,
            Region.name.label("region"), SafeHouse.min_age, SafeHouse.max_age, SafeHouse.genders,
            SafeHouse.services, SafeHouse.languages, *_AREA,
        )
        .join(SafeHouse, SafeHouse.id == Bed.safe_house_id)
        .join(Municipality, Municipality.id == SafeHouse.municipality_id)
        .join(Region, Region.id == Municipality.region_id)
    )  # fmt: skip
    if fits is not None:
        beds = beds.where(fits(SafeHouse))
    if only is not None:
        beds = beds.where(Bed.id.in_(only))
    rows = await session.execute(beds.order_by(Bed.id))
    return [
        Target(
            id=str(row.id),
            kind="safe_house_bed",
            safe_house_id=str(row.safe_house_id),
            **_profile(row._mapping),
        )
        for row in rows
    ]


async def households(
    session: AsyncSession,
    now: datetime,
    counts_self_reported: bool,
    kinds: Collection[str] = (),
    fits: Narrowing | None = None,
    only: Collection[uuid.UUID] | None = None,
) -> list[Target]:
    """Every household (of `kinds`, if given; with a free place, if it must fit `fits`; of the ids
    in `only`, if given), with its free places now, its availability and licence on `now`'s day,
    the levels of care it is ready for and the youth it is related to."""
    places = places_taken()
    query = select(
        *Household.__table__.c,
        Region.name.label("region"),
        *_AREA,
        ready_levels(counts_self_reported, now.date()).label("ready_levels"),
        taken_in(places).label("taken"),
        related_youth().label("related_youth_ids"),
    ).join(Municipality, Municipality.id == Household.municipality_id)
    query = query.join(Region, Region.id == Municipality.region_id).outerjoin(
        places, places.c.household_id == Household.id
    )
    if kinds:
        query = query.where(Household.kind.in_(kinds))
    if fits is not None:
        query = query.where(fits(Household), taken_in(places) < Household.capacity)
    if only is not None:
        query = query.where(Household.id.in_(only))
    rows = (await session.execute(query.order_by(Household.id))).mappings().all()
    today = now.date()
    return [
        Target(
            id=str(row["id"]),
            kind=row["kind"],
            capacity=max(row["capacity"] - row["taken"], 0),
            ready_levels=tuple(row["ready_levels"]),
            availability="open" if open_on(row, today) else row["availability"],
            licensed_until=row["licence_expires_on"] if row["licence_status"] in PLACEABLE_LICENCES else None,
            availability_confirmed_on=_local_day(row["availability_confirmed_at"], now),
            related_youth=tuple(str(y) for y in row["related_youth_ids"]),
            takes_sibling_groups=row["takes_sibling_groups"],
            **_profile(row),
        )
        for row in rows
    ]


def _profile(row: Mapping[Any, Any]) -> dict[str, Any]:
    """Where a bed's house or a household is (and its town's centre), and whom and what it takes."""
    return {
        "lat": row["lat"],
        "lon": row["lon"],
        "area_lat": row["area_lat"],
        "area_lon": row["area_lon"],
        "region": row["region"],
        "min_age": row["min_age"],
        "max_age": row["max_age"],
        "genders": tuple(row["genders"]),
        "services": tuple(row["services"]),
        "languages": tuple(row["languages"]),
    }


def _local_day(moment: datetime | None, now: datetime) -> date | None:
    return None if moment is None else moment.astimezone(now.tzinfo).date()
