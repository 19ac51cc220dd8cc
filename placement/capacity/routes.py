"""HTTP routes for the capacity figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from litestar import Response, Router, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity import history
from placement.capacity.access import READERS
from placement.capacity.counts import count_capacity, reading_now
from placement.capacity.schemas import CapacityHistory, CapacityOut, Every, Grouping
from placement.core.resources import Resources
from placement.core.tables import TABULAR, TableAnswer

DEFAULT_DAYS = 30
FirstDay = Annotated[date | None, Parameter(query="from", description="First day (default: 30 days ago)")]
LastDay = Annotated[date | None, Parameter(query="to", description="Last day (default: today)")]
By = Annotated[Grouping, Parameter(query="by", description="Group the counts by region, county or kind")]


@get("/capacity", opt=READERS, **TABULAR)
async def capacity_now(
    session: AsyncSession, resources: Resources, answer: TableAnswer, by: By = "region"
) -> Response[CapacityOut]:
    """Beds by status, household places, ready homes and youth, per region, county or kind of
    target, with the statewide totals."""
    return answer(await count_capacity(session, by, reading_now(resources)), f"capacity-by-{by}")


@get("/capacity/history", opt=READERS, **TABULAR)
async def capacity_history(
    session: AsyncSession,
    resources: Resources,
    answer: TableAnswer,
    by: By = "region",
    first: Annotated[
        date | None, Parameter(query="from", description="First day (default: 30 days ago)")
    ] = None,
    last: Annotated[date | None, Parameter(query="to", description="Last day (default: today)")] = None,
    every: Annotated[Every, Parameter(query="every", description="A row per day, or per week")] = "day",
) -> Response[CapacityHistory]:
    """The daily counts of a span of days, or each week's last day; rows a worker rebuilt after the
    fact say `source: backfill`."""
    last = last or resources.clock().date()
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    series = await history.read_history(session, by, first, last, every, resources.settings.zone)
    return answer(series, f"capacity-history-by-{by}-{first}-{last}")


router = Router(path="/", route_handlers=[capacity_now, capacity_history], tags=["capacity"])
