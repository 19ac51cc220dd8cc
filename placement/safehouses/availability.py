"""Which beds are free right now, filtered and (with a point) sorted by distance.

The query is built once here and used both by the API and by `placement bench api`, whose floor
runs the very same SQL through a bare asyncpg pool.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, literal, select

from placement.core.geo import BANDS_KM, distance_band, sql_distance_km
from placement.placements.models import LIVE_STATUSES, Placement
from placement.reference.models import County, Municipality, Region
from placement.safehouses.models import Bed, SafeHouse
from placement.safehouses.schemas import AvailableBed, Place

# Radii a role that sees only distance bands may filter by: the bands' edges, nothing finer.
BAND_EDGES_KM = tuple(int(high) for _, high, _ in BANDS_KM if high is not None)


@dataclass(frozen=True, slots=True)
class BedFilter:
    region_id: uuid.UUID | None = None
    county_id: uuid.UUID | None = None
    age: int | None = None
    gender: str | None = None
    services: tuple[str, ...] = ()
    near: tuple[float, float] | None = None
    within_km: float | None = None


def available_beds_query(
    f: BedFilter, limit: int | None, offset: int, exact: bool
) -> Select[*tuple[Any, ...]]:
    """Free beds (active, in service, in an active house, no live placement) matching `f`.

    Rows carry `total` (all matches, before paging). With `near`, sorted by distance — exact
    distance for `exact` roles, band then name for the others, so order leaks no more than bands.
    """
    distance = (sql_distance_km(SafeHouse.lat, SafeHouse.lon, *f.near) if f.near else literal(None)).label(
        "distance_km"
    )
    query = (
        select(
            Bed.id.label("bed_id"),
            Bed.label,
            SafeHouse.id.label("safe_house_id"),
            SafeHouse.name.label("safe_house"),
            SafeHouse.municipality_id,
            Municipality.name.label("municipality"),
            County.name.label("county"),
            Region.name.label("region"),
            SafeHouse.min_age,
            SafeHouse.max_age,
            SafeHouse.genders,
            SafeHouse.services,
            SafeHouse.languages,
            distance,
            func.count().over().label("total"),
        )
        .join(SafeHouse, SafeHouse.id == Bed.safe_house_id)
        .join(Municipality, Municipality.id == SafeHouse.municipality_id)
        .join(County, County.id == Municipality.county_id)
        .join(Region, Region.id == Municipality.region_id)
        .outerjoin(Placement, and_(Placement.bed_id == Bed.id, Placement.status.in_(LIVE_STATUSES)))
        .where(
            Placement.id.is_(None),
            Bed.active.is_(True),
            Bed.out_of_service_reason.is_(None),
            SafeHouse.active.is_(True),
        )
    )
    if f.region_id:
        query = query.where(Municipality.region_id == f.region_id)
    if f.county_id:
        query = query.where(Municipality.county_id == f.county_id)
    if f.age is not None:
        query = query.where(SafeHouse.min_age <= f.age, SafeHouse.max_age >= f.age)
    if f.gender:
        query = query.where(SafeHouse.genders.contains([f.gender]))
    if f.services:
        query = query.where(SafeHouse.services.contains(list(f.services)))
    if f.near and f.within_km is not None:
        query = query.where(distance <= f.within_km)
    if not f.near:
        order: tuple[Any, ...] = (SafeHouse.name, Bed.label)
    elif exact:
        order = (distance, SafeHouse.name, Bed.label)
    else:
        band = func.width_bucket(distance, list(map(float, (0, *BAND_EDGES_KM))))
        order = (band, SafeHouse.name, Bed.label)
    return query.order_by(*order).limit(limit).offset(offset)


def available_bed(row: Any, exact: bool) -> AvailableBed:
    km = row.distance_km
    return AvailableBed(
        bed_id=row.bed_id,
        label=row.label,
        safe_house_id=row.safe_house_id,
        safe_house=row.safe_house,
        place=Place(
            municipality_id=row.municipality_id,
            municipality=row.municipality,
            county=row.county,
            region=row.region,
        ),
        min_age=row.min_age,
        max_age=row.max_age,
        genders=row.genders,
        services=row.services,
        languages=row.languages,
        distance_km=round(km, 1) if km is not None and exact else None,
        distance_band=distance_band(km) if km is not None and not exact else None,
    )
