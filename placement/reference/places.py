"""A municipality's names, for the places that point at it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.errors import Unprocessable
from placement.reference.models import County, Municipality, Region
from placement.reference.schemas import Place


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
