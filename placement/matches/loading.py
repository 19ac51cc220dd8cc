"""The matcher's instance, built from the database: the youth asked about and every candidate, in
four statements whatever their number (youth, free beds, households, households' readiness).

Candidates are what could take a youth now: free beds (a hold past its deadline does not count),
and every household with its free places (the engine itself rules out the paused, closed and
unlicensed ones, so it can say why). Positions are exact: the engine needs them; what a role may
see of its answer is decided when the answer is shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.models import PLACEABLE_LICENCES, Household
from caregivers.households.occupancy import taken_in
from caregivers.households.service import open_on, related_youth
from caregivers.training.readiness import readiness
from placement.matching.schema import SAFE_HOUSE_BED, DangerZone, Instance, Target, Youth
from placement.matching.weights import Weights
from placement.placements.occupancy import places_taken
from placement.reference.models import Municipality, Region
from placement.safehouses.models import Bed, SafeHouse
from placement.safehouses.status import only_free
from placement.youth.models import Youth as YouthRecord

_AREA = (Municipality.lat.label("area_lat"), Municipality.lon.label("area_lon"))
"""The centre of the target's municipality: the engine measures closeness and bands from it."""


async def load_instance(
    session: AsyncSession,
    youth_ids: Collection[uuid.UUID],
    now: datetime,
    counts_self_reported: bool,
    weights: Weights | None = None,
    *,
    kinds: Collection[str] = (),
    max_distance_km: float | None = None,
) -> Instance:
    """The youth `youth_ids` and every candidate bed and household (of `kinds`, if given),
    judged on `now`'s day; `max_distance_km` tightens each youth's own maximum."""
    youth = await load_youth(session, youth_ids, max_distance_km)
    home_kinds = [kind for kind in kinds if kind != SAFE_HOUSE_BED]
    beds = await free_beds(session) if not kinds or SAFE_HOUSE_BED in kinds else []
    homes = (
        await households(session, now, counts_self_reported, home_kinds) if not kinds or home_kinds else []
    )
    return Instance(
        reference_date=now.date(),
        weights=weights or Weights(),
        youth=tuple(youth),
        targets=(*beds, *homes),
    )


async def load_youth(
    session: AsyncSession, youth_ids: Collection[uuid.UUID], max_distance_km: float | None = None
) -> list[Youth]:
    rows = await session.execute(
        select(YouthRecord, Region.name.label("region"))
        .join(Municipality, Municipality.id == YouthRecord.origin_municipality_id)
        .join(Region, Region.id == Municipality.region_id)
        .where(YouthRecord.id.in_(youth_ids))
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


async def free_beds(session: AsyncSession) -> list[Target]:
    """Every bed free now: active, in service, in an active house, with no placement in effect."""
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
    session: AsyncSession, now: datetime, counts_self_reported: bool, kinds: Collection[str] = ()
) -> list[Target]:
    """Every household (of `kinds`, if given), with its free places now, its availability and
    licence on `now`'s day, the levels of care it is ready for and the youth it is related to."""
    places = places_taken()
    query = select(
        *Household.__table__.c,
        Region.name.label("region"),
        *_AREA,
        taken_in(places).label("taken"),
        related_youth().label("related_youth_ids"),
    ).join(Municipality, Municipality.id == Household.municipality_id)
    query = query.join(Region, Region.id == Municipality.region_id).outerjoin(
        places, places.c.household_id == Household.id
    )
    if kinds:
        query = query.where(Household.kind.in_(kinds))
    rows = (await session.execute(query.order_by(Household.id))).mappings().all()
    today = now.date()
    levels = await readiness(session, [row["id"] for row in rows], today, counts_self_reported)
    return [
        Target(
            id=str(row["id"]),
            kind=row["kind"],
            capacity=max(row["capacity"] - row["taken"], 0),
            ready_levels=tuple(level.level for level in levels[row["id"]] if level.ready),
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
