"""The program's targets: each with its current value, its trend over the last 30 days, and whether
the trend carried to the due date reaches it.

The trend is the least-squares slope through the daily snapshots of the last 30 days and today's
value; with fewer than two days on record there is none, and the projection is today's value.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity.counts import Reading, count_capacity
from placement.capacity.history import start_of_day
from placement.capacity.metrics import METRICS
from placement.capacity.models import CapacitySnapshot, CapacityTarget
from placement.capacity.schemas import (
    CapacityOut,
    CapacityRow,
    Grouping,
    TargetCreate,
    TargetList,
    TargetOut,
    TargetUpdate,
)
from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import NotFound, Unprocessable
from placement.core.schemas import changed_fields

ENTITY = "capacity_target"
TREND_DAYS = 30
Series = dict[uuid.UUID | None, list[tuple[date, CapacityRow]]]  # a place's rows, day by day


def check_scope(data: TargetCreate) -> None:
    """A regional target names its region and nothing else; a county one its county; a statewide
    one neither."""
    named = {"region": data.region_id is not None, "county": data.county_id is not None}
    if any(named[scope] != (data.scope == scope) for scope in named):
        raise Unprocessable(
            "A target's scope names its place: region_id for a region, county_id for a county, "
            "neither statewide."
        )


async def create_target(session: AsyncSession, actor: Actor, data: TargetCreate) -> uuid.UUID:
    check_scope(data)
    target = CapacityTarget(**msgspec.structs.asdict(data), created_by=actor.user_id)
    session.add(target)
    await session.flush()
    audit.record(session, "create_target", ENTITY, target.id, metric=data.metric, scope=data.scope)
    return target.id


async def update_target(session: AsyncSession, target_id: uuid.UUID, data: TargetUpdate) -> None:
    target = await session.get(CapacityTarget, target_id, with_for_update=True)
    if target is None:
        raise NotFound(f"No target with id {target_id}.")
    changes = changed_fields(data)
    for field, value in changes.items():
        setattr(target, field, value)
    await session.flush()
    audit.record(session, "update_target", ENTITY, target_id, fields=",".join(sorted(changes)))


async def list_targets(
    session: AsyncSession, reading: Reading, zone: ZoneInfo, only: uuid.UUID | None = None
) -> TargetList:
    """Every target (or only one), each with where it stands."""
    query = select(CapacityTarget).order_by(CapacityTarget.due_on, CapacityTarget.title)
    if only is not None:
        query = query.where(CapacityTarget.id == only)
    targets = list(await session.scalars(query))
    if only is not None and not targets:
        raise NotFound(f"No target with id {only}.")
    groupings = {_grouping(t) for t in targets}
    today = reading.at.date()
    now = {by: await count_capacity(session, by, reading) for by in groupings}
    past = {
        by: await _daily(session, by, today - timedelta(days=TREND_DAYS), today, zone) for by in groupings
    }
    rows = [_target_out(t, now[_grouping(t)], past[_grouping(t)], today) for t in targets]
    return TargetList(as_of=reading.at, rows=rows)


async def read_target(
    session: AsyncSession, reading: Reading, zone: ZoneInfo, target_id: uuid.UUID
) -> TargetOut:
    """One target and where it stands; NotFound if there is none."""
    found = await list_targets(session, reading, zone, only=target_id)
    return found.rows[0]


def _grouping(target: CapacityTarget) -> Grouping:
    """The grouping whose rows hold the target's place (the statewide row is in each)."""
    return "county" if target.scope == "county" else "region"


def _place_of(target: CapacityTarget) -> uuid.UUID | None:
    return target.region_id or target.county_id


async def _daily(session: AsyncSession, by: Grouping, first: date, before: date, zone: ZoneInfo) -> Series:
    """The daily snapshots' rows from `first` up to the day before `before`, per place."""
    found = await session.execute(
        select(CapacitySnapshot.period_start, CapacitySnapshot.counts)
        .where(
            CapacitySnapshot.period == "day",
            CapacitySnapshot.by == by,
            CapacitySnapshot.period_start >= start_of_day(first, zone),
            CapacitySnapshot.period_start < start_of_day(before, zone),
        )
        .order_by(CapacitySnapshot.period_start)
    )
    series: Series = defaultdict(list)
    for start, counts in found:
        snapshot = msgspec.convert(counts, CapacityOut)
        day = start.astimezone(zone).date()
        series[None].append((day, snapshot.statewide))
        for row in snapshot.rows:
            series[row.id].append((day, row))
    return series


def _row_of(counts: CapacityOut, place: uuid.UUID | None) -> CapacityRow | None:
    if place is None:
        return counts.statewide
    return next((row for row in counts.rows if row.id == place), None)


def _target_out(target: CapacityTarget, now: CapacityOut, past: Series, today: date) -> TargetOut:
    metric = METRICS[target.metric]
    row = _row_of(now, _place_of(target))
    current = metric.read(row) if row is not None else None
    points = [((day - today).days, metric.read(r)) for day, r in past.get(_place_of(target), [])]
    points.append((0, current))
    slope, days = trend([(x, y) for x, y in points if y is not None])
    ahead = max((target.due_on - today).days, 0)
    projected = None if current is None else current + (slope or 0.0) * ahead
    return TargetOut(
        id=target.id,
        title=target.title,
        metric=target.metric,  # type: ignore[arg-type]
        metric_label=metric.label,
        direction=metric.direction,
        scope=target.scope,  # type: ignore[arg-type]
        place=row.group if row is not None else "unknown",
        region_id=target.region_id,
        county_id=target.county_id,
        value=target.value,
        due_on=target.due_on,
        note=target.note,
        current=current,
        trend_per_day=None if slope is None else round(slope, 4),
        trend_days=days,
        projected=None if projected is None else round(projected, 2),
        reached=metric.reached(current, target.value),
        on_track=metric.reached(projected, target.value),
        created_at=target.created_at,
        updated_at=target.updated_at,
    )


def trend(points: list[tuple[int, float]]) -> tuple[float | None, int]:
    """The least-squares slope of (day, value) points, and how many days it is drawn through."""
    days = len({x for x, _ in points})
    if days < 2:
        return None, days
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return slope, days
