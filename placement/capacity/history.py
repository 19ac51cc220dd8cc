"""Capacity over time: snapshots the worker takes hourly, days rebuilt for the time before it did,
and the series a program lead reads.

Every hour the cron counts capacity each way (region, county, kind) and stores it for the hour;
the first snapshot of a program day is stored for the day as well. A period and grouping is stored
once: two workers running the cron (or one running it twice) insert the second copy as a no-op.

The backfill counts past days with the same statements at each day's local midnight, from the
placements' timestamps: which beds and places were held or occupied, which youth had been referred,
were waiting, held or placed, and how long they had waited, are exact. The database keeps no
history of the rest, so a rebuilt day takes it as it is now: beds out of service (only the current
spell, from its start) and beds or houses made inactive; households' licence, capacity, kind and
availability (paused, closed, when last confirmed); a youth's origin; and readiness, judged on that
day from the completions on record now (a completion entered later but dated earlier counts). A
backfilled day says `source: backfill`, and never replaces a snapshot the cron took.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity.counts import Reading, count_capacity
from placement.capacity.models import GROUPINGS, CapacitySnapshot
from placement.capacity.schemas import CapacityHistory, CapacityOut, Every, Grouping, HistoryRow, Source
from placement.core.errors import Unprocessable

MAX_DAYS = 1100


def start_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


async def take_snapshot(session: AsyncSession, reading: Reading, zone: ZoneInfo) -> int:
    """Store the counts for the reading's hour, and for its day if the day has none yet; returns
    how many snapshots were new (0 when another run stored them first)."""
    hour = reading.at.replace(minute=0, second=0, microsecond=0)
    periods = (("hour", hour), ("day", start_of_day(reading.at.date(), zone)))
    return await _store(session, reading, periods, "live")


async def backfill(session: AsyncSession, first: date, last: date, reading: Reading, zone: ZoneInfo) -> int:
    """Rebuild the daily snapshots of `first`..`last` that are missing, each counted at the day's
    start; returns how many were stored."""
    stored = 0
    for day in _days(first, last):
        start = start_of_day(day, zone)
        at = Reading(start, reading.stale_after_days, reading.counts_self_reported, past=True)
        stored += await _store(session, at, (("day", start),), "backfill")
    return stored


async def first_live_day(session: AsyncSession, zone: ZoneInfo) -> date | None:
    """The first day the cron stored a snapshot for."""
    first = await session.scalar(
        select(func.min(CapacitySnapshot.period_start)).where(
            CapacitySnapshot.period == "day", CapacitySnapshot.source == "live"
        )
    )
    return None if first is None else first.astimezone(zone).date()


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


async def _store(
    session: AsyncSession, reading: Reading, periods: tuple[tuple[str, datetime], ...], source: Source
) -> int:
    stored = 0
    for by in GROUPINGS:
        counts = msgspec.to_builtins(await count_capacity(session, by, reading))
        for period, start in periods:
            new = await session.scalar(
                insert(CapacitySnapshot)
                .values(
                    period=period,
                    period_start=start,
                    by=by,
                    taken_at=reading.at,
                    source=source,
                    counts=counts,
                )
                .on_conflict_do_nothing()
                .returning(CapacitySnapshot.id)
            )
            stored += new is not None
    return stored


async def read_history(
    session: AsyncSession, by: Grouping, first: date, last: date, every: Every, zone: ZoneInfo
) -> CapacityHistory:
    """The daily counts from `first` to `last`; weekly, each week's last day (the counts are levels,
    not flows, so a week is what it ended with)."""
    if first > last:
        raise Unprocessable("`from` must not be after `to`.")
    if (last - first).days > MAX_DAYS:
        raise Unprocessable(f"Ask for at most {MAX_DAYS} days at a time.")
    local_day = func.timezone(zone.key, CapacitySnapshot.period_start)
    query = select(CapacitySnapshot.period_start, CapacitySnapshot.source, CapacitySnapshot.counts).where(
        CapacitySnapshot.period == "day",
        CapacitySnapshot.by == by,
        CapacitySnapshot.period_start >= start_of_day(first, zone),
        CapacitySnapshot.period_start < start_of_day(last + timedelta(days=1), zone),
    )
    if every == "week":
        week = func.date_trunc(literal_column("'week'"), local_day)
        query = query.ext(distinct_on(week)).order_by(week, CapacitySnapshot.period_start.desc())
    else:
        query = query.order_by(CapacitySnapshot.period_start)
    found = await session.execute(query)
    rows = [row for start, source, counts in found for row in _rows(start, source, counts, zone, every)]
    return CapacityHistory(by=by, every=every, first=first, last=last, rows=rows)


def _rows(
    start: datetime, source: Source, counts: dict[str, Any], zone: ZoneInfo, every: Every
) -> list[HistoryRow]:
    """One snapshot's rows, and its statewide row last."""
    day = start.astimezone(zone).date()
    period = day - timedelta(days=day.weekday()) if every == "week" else day
    snapshot = msgspec.convert(counts, CapacityOut)
    return [
        HistoryRow(period=period, day=day, source=source, **msgspec.structs.asdict(row))
        for row in (*snapshot.rows, snapshot.statewide)
    ]
