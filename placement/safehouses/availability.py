"""Which beds are free right now, filtered and (with a point) sorted by distance.

This is the hottest read of the service, so its SQL is built with SQLAlchemy once per *shape* of
filter (which filters are set), compiled for asyncpg, cached, and run on the request's own
connection straight through the driver, values bound at execution. `placement bench api` runs
the very same SQL through a bare asyncpg pool as its floor.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import array as pg_array
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.compiled import Statement, compiled
from placement.core.db import driver_connection
from placement.core.geo import BANDS_KM, EARTH_RADIUS_KM, distance_band
from placement.core.schemas import Page
from placement.placements.models import Placement, in_effect
from placement.reference.models import County, Municipality, Region
from placement.safehouses.models import Bed, SafeHouse
from placement.safehouses.schemas import AvailableBed, Place

# Radii a role that sees only distance bands may filter by: the bands' edges, nothing finer.
BAND_EDGES_KM = tuple(int(high) for _, high, _ in BANDS_KM if high is not None)
_BAND_BUCKETS: ColumnElement[Any] = literal_column(
    f"ARRAY[{', '.join(str(float(e)) for e in (0, *BAND_EDGES_KM))}]::float8[]"
)
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180


@dataclass(frozen=True, slots=True)
class BedFilter:
    region_id: uuid.UUID | None = None
    county_id: uuid.UUID | None = None
    age: int | None = None
    gender: str | None = None
    services: tuple[str, ...] = ()
    near: tuple[float, float] | None = None
    within_km: float | None = None

    def shape(self) -> tuple[bool, ...]:
        return (
            self.region_id is not None,
            self.county_id is not None,
            self.age is not None,
            self.gender is not None,
            bool(self.services),
            self.near is not None,
            self.near is not None and self.within_km is not None,
        )

    def values(self) -> dict[str, Any]:
        """The values bound to the shape's parameters."""
        values: dict[str, Any] = {
            "region_id": self.region_id,
            "county_id": self.county_id,
            "age": self.age,
            "gender": self.gender,
            "services": list(self.services),
        }
        if self.near is not None:
            lat, lon = self.near
            values.update(
                near_lat=math.radians(lat), near_lon=math.radians(lon), near_cos=math.cos(math.radians(lat))
            )
            if self.within_km is not None:
                # A bounding box the index-free scan can test cheaply before the haversine.
                dlat = self.within_km / KM_PER_DEGREE
                dlon = self.within_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
                values.update(
                    within_km=self.within_km,
                    lat_min=lat - dlat,
                    lat_max=lat + dlat,
                    lon_min=lon - dlon,
                    lon_max=lon + dlon,
                )
        return values


def sql_distance_km(
    lat: Any, lon: Any, at_lat_rad: Any, at_lon_rad: Any, cos_at_lat: Any
) -> ColumnElement[float]:
    """The haversine distance in SQL (core PostgreSQL, no PostGIS) from columns `lat`, `lon`
    (degrees) to a point given in radians with its latitude's cosine (SQL expressions)."""
    p1 = func.radians(lat)
    a = func.power(func.sin((at_lat_rad - p1) / 2), 2) + func.cos(p1) * cos_at_lat * func.power(
        func.sin((at_lon_rad - func.radians(lon)) / 2), 2
    )
    return 2 * EARTH_RADIUS_KM * func.asin(func.least(1.0, func.sqrt(a)))


def _param(name: str, type_: Any) -> BindParameter[Any]:
    """A named parameter whose value comes at execution (see `BedFilter.values`)."""
    return bindparam(name, None, type_=type_)


def _statement(shape: tuple[bool, ...], exact: bool, paged: bool) -> Select[*tuple[Any, ...]]:
    """Free beds (active, in service, in an active house, no live placement) for a filter shape.

    Rows carry `total` (all matches, before paging). With a point, sorted by distance. For
    `exact` roles, from the house itself. For the others, from its municipality's centroid (which
    they see anyway) and then banded: bands of the house's own distance would let a caller who
    moves the point find where a band flips, and so the house, to the metre.
    """
    by_region, by_county, by_age, by_gender, by_services, near, within = shape
    position = (SafeHouse.lat, SafeHouse.lon) if exact else (Municipality.lat, Municipality.lon)
    distance = (
        sql_distance_km(
            *position,
            _param("near_lat", Float),
            _param("near_lon", Float),
            _param("near_cos", Float),
        )
        if near
        else literal_column("NULL::float8")
    ).label("distance_km")
    query = (
        select(
            Bed.id.label("bed_id"), Bed.label, SafeHouse.id.label("safe_house_id"),
            SafeHouse.name.label("safe_house"), SafeHouse.municipality_id,
            Municipality.name.label("municipality"), County.name.label("county"), Region.name.label("region"),
            SafeHouse.min_age, SafeHouse.max_age, SafeHouse.genders, SafeHouse.services, SafeHouse.languages,
            distance, func.count().over().label("total"),
        )
        .join(SafeHouse, SafeHouse.id == Bed.safe_house_id)
        .join(Municipality, Municipality.id == SafeHouse.municipality_id)
        .join(County, County.id == Municipality.county_id)
        .join(Region, Region.id == Municipality.region_id)
        .outerjoin(Placement, and_(Placement.bed_id == Bed.id, in_effect()))
        .where(
            Placement.id.is_(None),
            Bed.active.is_(True),
            Bed.out_of_service_reason.is_(None),
            SafeHouse.active.is_(True),
        )
    )  # fmt: skip
    if by_region:
        query = query.where(Municipality.region_id == _param("region_id", Uuid))
    if by_county:
        query = query.where(Municipality.county_id == _param("county_id", Uuid))
    if by_age:
        age = _param("age", Integer)
        query = query.where(SafeHouse.min_age <= age, SafeHouse.max_age >= age)
    if by_gender:
        query = query.where(SafeHouse.genders.contains(pg_array([_param("gender", String)])))
    if by_services:
        query = query.where(SafeHouse.services.contains(_param("services", ARRAY(String))))
    if within:
        query = query.where(
            position[0].between(_param("lat_min", Float), _param("lat_max", Float)),
            position[1].between(_param("lon_min", Float), _param("lon_max", Float)),
            distance <= _param("within_km", Float),
        )
    if not near:
        order: tuple[Any, ...] = (SafeHouse.name, Bed.label)
    elif exact:
        order = (distance, SafeHouse.name, Bed.label)
    else:
        order = (func.width_bucket(distance, _BAND_BUCKETS), SafeHouse.name, Bed.label)
    query = query.order_by(*order)
    if paged:
        query = query.limit(_param("limit", Integer)).offset(_param("offset", Integer))
    return query


@lru_cache(maxsize=512)
def _page(shape: tuple[bool, ...], exact: bool) -> Statement:
    return compiled(_statement(shape, exact, paged=True))


@lru_cache(maxsize=512)
def _count(shape: tuple[bool, ...], exact: bool) -> Statement:
    everything = _statement(shape, exact, paged=False).subquery()
    return compiled(select(func.count()).select_from(everything))


def available_beds_sql(f: BedFilter, limit: int, offset: int, exact: bool) -> tuple[str, list[Any]]:
    """SQL (asyncpg `$n` style) and arguments for one page of free beds matching `f`."""
    query = _page(f.shape(), exact)
    return query.sql, query.args({**f.values(), "limit": limit, "offset": offset})


def count_available_beds_sql(f: BedFilter, exact: bool) -> tuple[str, list[Any]]:
    """SQL and arguments counting every free bed matching `f` (for a page past the end)."""
    query = _count(f.shape(), exact)
    return query.sql, query.args(f.values())


def available_bed(row: Any, exact: bool) -> AvailableBed:
    km = row["distance_km"]
    return AvailableBed(
        bed_id=row["bed_id"],
        label=row["label"],
        safe_house_id=row["safe_house_id"],
        safe_house=row["safe_house"],
        place=Place(
            municipality_id=row["municipality_id"],
            municipality=row["municipality"],
            county=row["county"],
            region=row["region"],
        ),
        min_age=row["min_age"],
        max_age=row["max_age"],
        genders=row["genders"],
        services=row["services"],
        languages=row["languages"],
        distance_km=round(km, 1) if km is not None and exact else None,
        distance_band=distance_band(km) if km is not None and not exact else None,
    )


async def list_available_beds(
    session: AsyncSession, f: BedFilter, limit: int, offset: int, exact: bool
) -> Page[AvailableBed]:
    """One page of free beds, with the number of all that match."""
    connection = await driver_connection(session, in_transaction=False)
    rows = await connection.fetch(*_flat(available_beds_sql(f, limit, offset, exact)))
    # Past the last page (or when nothing matches) there is no window count: count without paging.
    total = (
        rows[0]["total"]
        if rows
        else await connection.fetchval(*_flat(count_available_beds_sql(f, exact))) or 0
    )
    return Page(items=[available_bed(r, exact) for r in rows], total=total, limit=limit, offset=offset)


def _flat(query: tuple[str, list[Any]]) -> tuple[Any, ...]:
    sql, arguments = query
    return (sql, *arguments)
