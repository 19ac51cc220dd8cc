"""The program leads' capacity dashboard: capacity by region, county or kind, its last 90 days,
the targets against their trends, unmet need by blocking rule and training coverage, as tables
with SVG charts beside them; every table also a CSV download.

Every figure comes from the service behind the matching `GET /api/v1/capacity...` call, with the
same arguments, and every table is laid out by the plan that lays out its CSV
(`placement.core.tables`): the page, the download and the API say the same thing. Counts only:
no youth, family, caregiver or address is on any of these pages.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from litestar import Request, Response, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity import coverage, history, needs, targets, trials
from placement.capacity.counts import count_capacity, reading_now
from placement.capacity.schemas import Grouping
from placement.core.resources import Resources
from placement.web import capacity_charts as charts
from placement.web import capacity_plans
from placement.web.capacity_tables import READERS, TARGET_SETTERS, download, html_table
from placement.web.pages import page

HISTORY_DAYS = 90
TARGETS_CHARTED = 12
"""The dashboard charts the targets due soonest; the targets page lists them all."""
GROUPINGS: dict[str, str] = {"region": "Region", "county": "County", "kind": "Kind of place"}


def _grouping(by: str | None) -> Grouping:
    return by if by in ("region", "county", "kind") else "region"  # type: ignore[return-value]


async def _history(session: AsyncSession, resources: Resources, by: Grouping) -> Any:
    last = resources.clock().date()
    first = last - timedelta(days=HISTORY_DAYS - 1)
    return await history.read_history(session, by, first, last, "day", resources.settings.zone)


@get("/capacity-dashboard", opt=READERS)
async def dashboard(
    request: Request[Any, Any, Any], session: AsyncSession, resources: Resources, by: str | None = None
) -> Template:
    """Everything at a glance, each section with its chart, its table and its CSV."""
    grouping = _grouping(by)
    reading = reading_now(resources)
    now = await count_capacity(session, grouping, reading)
    past = await _history(session, resources, "region")
    goals = await targets.list_targets(session, reading, resources.settings.zone)
    need = await needs.unmet_need_now(session, resources)
    trained = await coverage.training_coverage(session, reading)
    charted = goals.rows[:TARGETS_CHARTED]
    return page(
        request,
        "capacity_dashboard.html",
        by=grouping,
        groupings=GROUPINGS,
        as_of=now.as_of,
        capacity=html_table(now),
        capacity_svg=charts.capacity_chart(now),
        history_svg=charts.history_chart(past),
        history_weeks=_weekly_statewide(past),
        history_days=HISTORY_DAYS,
        targets_svg=charts.targets_chart(charted) if charted else None,
        targets_total=len(goals.rows),
        targets=charted,
        may_set=request.scope["user"].role in TARGET_SETTERS["roles"],
        need_svg=charts.unmet_need_chart(need.statewide) if need.statewide.blocked_by else None,
        need=html_table(need),
        coverage_svg=charts.coverage_chart(trained.rows),
        coverage=html_table(trained),
    )


def _weekly_statewide(series: Any) -> list[Any]:
    """The history chart's text alternative: the statewide row of each week's last day."""
    weeks: dict[date, Any] = {}
    for row in series.rows:
        if row.id is None and row.group == "statewide":
            weeks[row.day - timedelta(days=row.day.weekday())] = row
    return list(weeks.values())


@get("/capacity-dashboard/capacity.csv", opt=READERS)
async def capacity_csv(session: AsyncSession, resources: Resources, by: str | None = None) -> Response[bytes]:
    counts = await count_capacity(session, _grouping(by), reading_now(resources))
    return download(counts, f"capacity-by-{counts.by}")


@get("/capacity-dashboard/history.csv", opt=READERS)
async def history_csv(session: AsyncSession, resources: Resources, by: str | None = None) -> Response[bytes]:
    series = await _history(session, resources, _grouping(by))
    return download(series, f"capacity-history-by-{series.by}-{series.first}-{series.last}")


@get("/capacity-dashboard/targets.csv", opt=READERS)
async def targets_csv(session: AsyncSession, resources: Resources) -> Response[bytes]:
    found = await targets.list_targets(session, reading_now(resources), resources.settings.zone)
    return download(found, "capacity-targets")


@get("/capacity-dashboard/unmet-need.csv", opt=READERS)
async def unmet_need_csv(session: AsyncSession, resources: Resources) -> Response[bytes]:
    return download(await needs.unmet_need_now(session, resources), "unmet-need")


@get("/capacity-dashboard/training.csv", opt=READERS)
async def training_csv(session: AsyncSession, resources: Resources) -> Response[bytes]:
    return download(await coverage.training_coverage(session, reading_now(resources)), "training-coverage")


@get("/capacity-what-if/{id:uuid}/answer.csv", opt=READERS)
async def what_if_csv(id: uuid.UUID, session: AsyncSession) -> Response[bytes]:
    return download(await trials.read_what_if(session, id), f"what-if-{id}")


handlers = [
    dashboard,
    capacity_csv,
    history_csv,
    targets_csv,
    unmet_need_csv,
    training_csv,
    what_if_csv,
    *capacity_plans.handlers,
]
