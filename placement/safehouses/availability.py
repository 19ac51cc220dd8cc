"""Which beds are free right now, filtered and (with a point) sorted by distance.

This is the hottest read of the service, so its SQL is built with SQLAlchemy once per *shape* of
filter (which filters are set), compiled for asyncpg, cached, and run on the request's own
connection straight through the driver, values bound at execution. `placement bench api` runs
the very same SQL through a bare asyncpg pool as its floor.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.compiled import Statement, compiled, fetch_counted_page
from placement.core.db import driver_connection
from placement.core.schemas import Page
from placement.reference.models import County, Municipality, Region
from placement.reference.nearby import (
    PlaceFilter,
    distance_column,
    matching,
    nearest_first,
    offered,
    param,
    position_of,
)
from placement.safehouses.models import Bed, SafeHouse
from placement.safehouses.schemas import AvailableBed
from placement.safehouses.status import only_free


def _statement(shape: tuple[bool, ...], exact: bool, paged: bool) -> Select[*tuple[Any, ...]]:
    """Free beds (active, in service, in an active house, no live placement) for a filter shape.

    Rows carry `total` (all matches, before paging). With a point, nearest first
    (`placement.reference.nearby`).
    """
    position = position_of(SafeHouse, exact)
    distance = distance_column(shape, position)
    query = only_free(
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
    )  # fmt: skip
    query = matching(query, shape, SafeHouse, position, distance)
    query = query.order_by(*nearest_first(shape, exact, distance), SafeHouse.name, Bed.label)
    if paged:
        query = query.limit(param("limit", Integer)).offset(param("offset", Integer))
    return query


@lru_cache(maxsize=512)
def _page(shape: tuple[bool, ...], exact: bool) -> Statement:
    return compiled(_statement(shape, exact, paged=True))


@lru_cache(maxsize=512)
def _count(shape: tuple[bool, ...], exact: bool) -> Statement:
    everything = _statement(shape, exact, paged=False).subquery()
    return compiled(select(func.count()).select_from(everything))


def available_beds_sql(f: PlaceFilter, limit: int, offset: int, exact: bool) -> tuple[str, list[Any]]:
    """SQL (asyncpg `$n` style) and arguments for one page of free beds matching `f`."""
    query = _page(f.shape(), exact)
    return query.sql, query.args({**f.values(), "limit": limit, "offset": offset})


def count_available_beds_sql(f: PlaceFilter, exact: bool) -> tuple[str, list[Any]]:
    """SQL and arguments counting every free bed matching `f` (for a page past the end)."""
    query = _count(f.shape(), exact)
    return query.sql, query.args(f.values())


def available_bed(row: Any, exact: bool) -> AvailableBed:
    return AvailableBed(
        bed_id=row["bed_id"],
        label=row["label"],
        safe_house_id=row["safe_house_id"],
        safe_house=row["safe_house"],
        **offered(row, exact),
    )


async def list_available_beds(
    session: AsyncSession, f: PlaceFilter, limit: int, offset: int, exact: bool
) -> Page[AvailableBed]:
    """One page of free beds, with the number of all that match."""
    connection = await driver_connection(session, in_transaction=False)
    shape = f.shape()
    values = {**f.values(), "limit": limit, "offset": offset}
    rows, total = await fetch_counted_page(connection, _page(shape, exact), _count(shape, exact), values)
    return Page(items=[available_bed(r, exact) for r in rows], total=total, limit=limit, offset=offset)
