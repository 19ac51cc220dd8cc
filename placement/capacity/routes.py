"""HTTP routes for the capacity figures."""

from __future__ import annotations

from typing import Annotated

from litestar import Router, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity.access import READERS
from placement.capacity.counts import Reading, count_capacity
from placement.capacity.schemas import CapacityOut, Grouping
from placement.core.resources import Resources

By = Annotated[Grouping, Parameter(query="by", description="Group the counts by region, county or kind")]


def reading_now(resources: Resources) -> Reading:
    settings = resources.settings
    return Reading(resources.clock(), settings.stale_after_days, settings.readiness_counts_self_reported)


@get("/capacity", opt=READERS)
async def capacity_now(session: AsyncSession, resources: Resources, by: By = "region") -> CapacityOut:
    """Beds by status, household places, ready homes and youth, per region, county or kind of
    target, with the statewide totals."""
    return await count_capacity(session, by, reading_now(resources))


router = Router(path="/", route_handlers=[capacity_now], tags=["capacity"])
