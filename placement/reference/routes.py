"""HTTP routes for regions, counties and municipalities (any signed-in user)."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.schemas import Limit
from placement.core.security.guards import allow
from placement.core.security.roles import ROLES
from placement.reference.models import County, Region
from placement.reference.places import find_municipalities
from placement.reference.schemas import CountyOut, MunicipalityOut, RegionOut

READ = allow(*ROLES, entity="reference")


@get("/regions", opt=READ)
async def list_regions(session: AsyncSession) -> list[RegionOut]:
    rows = await session.execute(select(Region.id, Region.name).order_by(Region.name))
    return [RegionOut(id=r.id, name=r.name) for r in rows]


@get("/counties", opt=READ)
async def list_counties(session: AsyncSession) -> list[CountyOut]:
    rows = await session.execute(select(County.id, County.name).order_by(County.name))
    return [CountyOut(id=r.id, name=r.name) for r in rows]


@get("/municipalities", opt=READ)
async def list_municipalities(
    session: AsyncSession,
    q: Annotated[str | None, Parameter(max_length=100, description="Name starts with")] = None,
    limit: Limit = 50,
) -> list[MunicipalityOut]:
    """Municipalities by name prefix (case-insensitive), with their county, region and centroid."""
    return await find_municipalities(session, q, limit)


router = Router(
    path="/", route_handlers=[list_regions, list_counties, list_municipalities], tags=["reference"]
)
