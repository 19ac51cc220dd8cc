"""A municipality's names, for the places that point at it."""

from __future__ import annotations

import uuid
from collections import Counter

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.errors import Unprocessable
from placement.reference.models import County, Municipality, Region
from placement.reference.schemas import MunicipalityOut, Place


async def place_of(session: AsyncSession, municipality_id: uuid.UUID) -> Place:
    row = (
        await session.execute(
            select(Municipality.name, County.name.label("county"), Region.name.label("region"))
            .join(County, County.id == Municipality.county_id)
            .join(Region, Region.id == Municipality.region_id)
            .where(Municipality.id == municipality_id)
        )
    ).first()
    if row is None:
        raise Unprocessable(f"municipality_id: no municipality with id {municipality_id}")
    return Place(municipality_id=municipality_id, municipality=row.name, county=row.county, region=row.region)


async def find_municipalities(session: AsyncSession, q: str | None, limit: int) -> list[MunicipalityOut]:
    """Municipalities by name prefix (case-insensitive), with their county, region and centroid."""
    query = (
        select(Municipality, County.name.label("county"), Region.name.label("region"))
        .join(County, County.id == Municipality.county_id)
        .join(Region, Region.id == Municipality.region_id)
        .order_by(Municipality.name, County.name)
        .limit(limit)
    )
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Municipality.name.ilike(f"{escaped}%", escape="\\"))
    rows = await session.execute(query)
    return [
        MunicipalityOut(id=m.id, name=m.name, county=county, region=region, lat=m.lat, lon=m.lon)
        for m, county, region in rows
    ]


async def municipalities_named(session: AsyncSession, name: str) -> list[MunicipalityOut]:
    """The municipalities with this name (case and surrounding spaces aside): one, none, or
    several where towns in different counties share it; `Name, County` names one of those."""
    town, _, county = name.strip().rpartition(",") if "," in name else (name.strip(), "", "")
    wanted, in_county = town.strip().casefold(), county.strip().casefold()
    if not wanted:
        return []
    found = await find_municipalities(session, town.strip(), 50)
    return [
        m
        for m in found
        if m.name.casefold() == wanted and (not in_county or m.county.casefold() == in_county)
    ]


async def one_town(session: AsyncSession, name: str, field: str) -> MunicipalityOut:
    """The one municipality `name` names (see `municipalities_named`); Unprocessable, saying how
    to write it, if none does or several do: a place taken for the wrong town of the same name
    (a danger zone, a search's centre) would be wrong without anyone seeing it."""
    found = await municipalities_named(session, name)
    if not found:
        raise Unprocessable(f"{field}: no municipality is named {name!r}.")
    if len(found) > 1:
        counties = " or ".join(f"'{m.name}, {m.county}'" for m in found)
        raise Unprocessable(f"{field}: {len(found)} municipalities are named {name!r}; write {counties}.")
    return found[0]


async def town_labels(session: AsyncSession) -> list[str]:
    """Every town, written so that it names one: its name, or `Name, County` when towns in
    several counties share the name (for a form's list of towns: names only, one light read)."""
    towns = (
        await session.execute(
            select(Municipality.name, County.name)
            .join(County, County.id == Municipality.county_id)
            .order_by(Municipality.name, County.name)
        )
    ).all()
    shared = Counter(name.casefold() for name, _ in towns)
    return [name if shared[name.casefold()] == 1 else f"{name}, {county}" for name, county in towns]


async def region_names(session: AsyncSession) -> list[tuple[uuid.UUID, str]]:
    return await place_names(session, Region)


async def place_names(
    session: AsyncSession, place: type[Region] | type[County]
) -> list[tuple[uuid.UUID, str]]:
    """Every region (or county): id and name, by name."""
    found = await session.execute(select(place.id, place.name).order_by(place.name))
    return [(row.id, row.name) for row in found]
