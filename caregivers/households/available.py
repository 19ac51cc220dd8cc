"""Which households can take a child right now: licensed and open today, with a free place.

The same filters as free beds (`placement.reference.nearby`), plus kind, readiness for a level of
care and whether stale availability counts; compiled once per shape and run on the driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Date, DateTime, Integer, Select, String, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.models import PLACEABLE_LICENCES, Household
from caregivers.households.occupancy import PlacesTaken, taken_in
from caregivers.households.schemas import AvailableHousehold
from caregivers.households.service import Reading, is_stale
from caregivers.training.readiness import ready_for_level
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


@dataclass(frozen=True, slots=True)
class HouseholdFilter:
    """The places filter, and what only homes have."""

    place: PlaceFilter
    kind: str | None = None
    include_stale: bool = False
    # A level of care every primary caregiver is trained for (`caregivers.training.readiness`).
    ready_for: str | None = None

    def shape(self) -> tuple[bool, ...]:
        return (*self.place.shape(), self.kind is not None, self.include_stale, self.ready_for is not None)

    def values(self, now: datetime, stale_after_days: int) -> dict[str, Any]:
        return {
            **self.place.values(),
            "kind": self.kind,
            "ready_level": self.ready_for,
            "today": now.date(),
            "confirmed_since": now - timedelta(days=stale_after_days),
        }


def _statement(
    shape: tuple[bool, ...], exact: bool, places_taken: PlacesTaken, counts_self_reported: bool, paged: bool
) -> Select[*tuple[Any, ...]]:
    """Households that take children today with a free place, for a filter shape; rows carry
    `total` (all matches, before paging). With a point, nearest first."""
    place_shape, (by_kind, include_stale, by_readiness) = shape[:-3], shape[-3:]
    position = position_of(Household, exact)
    distance = distance_column(place_shape, position)
    places = places_taken()
    free = (Household.capacity - taken_in(places)).label("free_places")
    today = param("today", Date)
    query = (
        select(
            Household.id.label("household_id"), Household.name, Household.kind, Household.municipality_id,
            Municipality.name.label("municipality"), County.name.label("county"), Region.name.label("region"),
            Household.min_age, Household.max_age, Household.genders, Household.services, Household.languages,
            Household.takes_sibling_groups, Household.capacity, free, Household.availability_confirmed_at,
            distance, func.count().over().label("total"),
        )
        .join(Municipality, Municipality.id == Household.municipality_id)
        .join(County, County.id == Municipality.county_id)
        .join(Region, Region.id == Municipality.region_id)
        .outerjoin(places, places.c.household_id == Household.id)
        .where(
            Household.licence_status.in_(PLACEABLE_LICENCES),
            Household.licence_expires_on >= today,
            or_(
                Household.availability == "open",
                and_(Household.availability == "paused", Household.paused_until <= today),
            ),
            free.element > 0,
        )
    )  # fmt: skip
    query = matching(query, place_shape, Household, position, distance)
    if by_kind:
        query = query.where(Household.kind == param("kind", String))
    if by_readiness:
        query = query.where(ready_for_level(counts_self_reported))
    if not include_stale:
        query = query.where(
            Household.availability_confirmed_at >= param("confirmed_since", DateTime(timezone=True))
        )
    query = query.order_by(*nearest_first(place_shape, exact, distance), Household.name, Household.id)
    if paged:
        query = query.limit(param("limit", Integer)).offset(param("offset", Integer))
    return query


@lru_cache(maxsize=512)
def _page(shape: tuple[bool, ...], exact: bool, places_taken: PlacesTaken, counts: bool) -> Statement:
    return compiled(_statement(shape, exact, places_taken, counts, paged=True))


@lru_cache(maxsize=512)
def _count(shape: tuple[bool, ...], exact: bool, places_taken: PlacesTaken, counts: bool) -> Statement:
    everything = _statement(shape, exact, places_taken, counts, paged=False).subquery()
    return compiled(select(func.count()).select_from(everything))


def available_statements(f: HouseholdFilter, exact: bool, reading: Reading) -> tuple[Statement, Statement]:
    """The compiled page and count of free homes for this filter (the bench runs them bare too)."""
    key = (f.shape(), exact, reading.places_taken, reading.readiness_counts_self_reported)
    return _page(*key), _count(*key)


def available_household(row: Any, exact: bool, now: datetime, stale_after_days: int) -> AvailableHousehold:
    return AvailableHousehold(
        household_id=row["household_id"],
        name=row["name"],
        kind=row["kind"],
        takes_sibling_groups=row["takes_sibling_groups"],
        capacity=row["capacity"],
        free_places=row["free_places"],
        availability_confirmed_at=row["availability_confirmed_at"],
        stale=is_stale(row["availability_confirmed_at"], now, stale_after_days),
        **offered(row, exact),
    )


async def list_available_households(
    session: AsyncSession, f: HouseholdFilter, limit: int, offset: int, exact: bool, reading: Reading
) -> Page[AvailableHousehold]:
    """One page of households that can take a child now, with the number of all that match."""
    connection = await driver_connection(session, in_transaction=False)
    values = {**f.values(reading.now, reading.stale_after_days), "limit": limit, "offset": offset}
    rows, total = await fetch_counted_page(connection, *available_statements(f, exact, reading), values)
    items = [available_household(r, exact, reading.now, reading.stale_after_days) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)
