"""Capacity snapshots: stored once per period however many runs, equal to what `GET /capacity`
answered then; past days rebuilt from the placements' timestamps; the series read by day or week."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
from arq.jobs import JobStatus
from arq.worker import Worker
from click.testing import CliRunner
from sqlalchemy import select, update

from placement.capacity.models import CapacitySnapshot
from placement.cli import main
from placement.core.resources import Resources
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from placement.placements.models import Placement
from placement.safehouses.models import Bed
from placement.worker import snapshot_capacity, worker_settings
from placement.youth.models import Youth
from tests.capacity.scene import confirm, hold_bed
from tests.conftest import FakeClock
from tests.factories import API, make_safe_house, make_youth


def env_for(settings: Settings) -> dict[str, str]:
    """The CLI's environment: the tests' database and Redis, and days told in UTC as theirs."""
    assert settings.database_url and settings.redis_url
    return {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "PLACEMENT_TIMEZONE": "UTC",
    }


async def snapshots(resources: Resources) -> list[tuple[str, str, datetime, str]]:
    async with resources.sessionmaker() as session:
        found = await session.execute(
            select(
                CapacitySnapshot.period,
                CapacitySnapshot.by,
                CapacitySnapshot.period_start,
                CapacitySnapshot.source,
            ).order_by(CapacitySnapshot.period, CapacitySnapshot.by)
        )
        return [tuple(row) for row in found]  # type: ignore[misc]


async def test_two_runs_at_once_store_each_period_and_grouping_once(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    await make_safe_house(client, await sign_in("placement_staff"), beds=2)
    ctx = {"resources": resources}

    stored = await asyncio.gather(snapshot_capacity(ctx), snapshot_capacity(ctx))
    again = await snapshot_capacity(ctx)

    assert sorted(stored) == [0, 6] and again == 0  # hour and day, each grouped three ways
    found = await snapshots(resources)
    assert [(period, by) for period, by, _, _ in found] == [
        (period, by) for period in ("day", "hour") for by in ("county", "kind", "region")
    ]


async def test_two_workers_taking_snapshots_at_once_store_one_per_period(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, settings: Settings
) -> None:
    await make_safe_house(client, await sign_in("placement_staff"), beds=2)
    queued = [await resources.redis.enqueue_job("snapshot_capacity") for _ in range(4)]
    workers = [Worker(**worker_settings(settings, resources)) for _ in range(2)]  # and their start-up runs
    running = [asyncio.create_task(w.async_run()) for w in workers]
    try:
        for _ in range(400):  # until the four runs (and the workers' start-up ones) are done
            states = [await job.status() for job in queued if job is not None]
            if all(state == JobStatus.complete for state in states):
                break
            await asyncio.sleep(0.05)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        # Closing waits for the jobs the cancel stopped: their CancelledError is expected here.
        await asyncio.gather(*(w.close() for w in workers), return_exceptions=True)

    assert states == [JobStatus.complete] * 4
    assert len(await snapshots(resources)) == 6


async def test_a_snapshot_holds_what_capacity_answered_at_its_instant(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    house = await make_safe_house(client, staff, beds=3)
    await hold_bed(
        client,
        staff,
        await make_youth(client, staff, await sign_in("caseworker")),
        house["bed_list"][0]["id"],
    )
    await snapshot_capacity({"resources": resources})

    for by in ("region", "county", "kind"):
        now = (await client.get(f"{API}/capacity", params={"by": by}, headers=lead.headers)).json()
        today = clock().date().isoformat()
        series = await client.get(
            f"{API}/capacity/history", params={"by": by, "from": today, "to": today}, headers=lead.headers
        )
        assert series.status_code == 200, series.text
        rows = series.json()["rows"]
        assert [(r["day"], r["source"]) for r in rows] == [(today, "live")] * len(rows)
        strip = ("period", "day", "source")
        assert [{k: v for k, v in r.items() if k not in strip} for r in rows] == [
            *now["rows"],
            now["statewide"],
        ]


@dataclass
class Stay:
    """A youth's stay in a bed, its moments in days before today's midnight (an hour into the day)."""

    referred: float
    held: float
    held_for: float  # days the hold lasts unless confirmed
    confirmed: float | None
    closed: float | None

    def status_at(self, midnight: datetime, at: datetime) -> str | None:
        """The youth's status at `at`, worked out one rule at a time (None: not yet referred)."""

        def moment(days: float | None) -> datetime | None:
            return None if days is None else days_before(midnight, days)

        closed, confirmed = moment(self.closed), moment(self.confirmed)
        if days_before(midnight, self.referred) > at:
            return None
        if days_before(midnight, self.held) > at or (closed is not None and closed <= at):
            return "awaiting"
        if confirmed is not None and confirmed <= at:
            return "placed"
        return "held" if days_before(midnight, self.held - self.held_for) > at else "awaiting"


def days_before(midnight: datetime, days: float) -> datetime:
    return midnight - timedelta(days=days) + timedelta(hours=1)


STAYS = [
    Stay(referred=9, held=6, held_for=3, confirmed=4, closed=2),  # placed on day 4, ended on day 2
    Stay(referred=5, held=3, held_for=1.5, confirmed=None, closed=None),  # a hold that lapsed
    Stay(referred=8, held=7, held_for=3, confirmed=5, closed=None),  # placed since day 5
]


async def test_a_backfilled_week_counts_each_day_from_the_placements_timestamps(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock, settings: Settings
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    caseworker = await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=3)
    midnight = datetime.combine(clock().date(), time(0), tzinfo=UTC)

    def days_ago(days: float) -> datetime:
        return days_before(midnight, days)

    async with unit_of_work(resources.sessionmaker) as session:
        await session.execute(update(Bed).values(created_at=days_ago(30)))
    for stay, bed in zip(STAYS, house["bed_list"], strict=True):
        youth = await make_youth(client, staff, caseworker)
        placement = await hold_bed(client, staff, youth, bed["id"])
        if stay.confirmed is not None:
            await confirm(client, staff, placement)
        values: dict[str, Any] = {
            "created_at": days_ago(stay.held),
            "held_until": days_ago(stay.held - stay.held_for),
            "confirmed_at": None if stay.confirmed is None else days_ago(stay.confirmed),
        }
        if stay.closed is not None:
            values |= {"status": "ended", "closed_at": days_ago(stay.closed), "close_reason": "moved"}
        elif stay.confirmed is None:
            values |= {"status": "expired", "closed_at": days_ago(stay.held - stay.held_for - 0.5)}
        async with unit_of_work(resources.sessionmaker) as session:
            await session.execute(
                update(Placement).where(Placement.id == uuid.UUID(placement["id"])).values(**values)
            )
            await session.execute(
                update(Youth)
                .where(Youth.id == uuid.UUID(youth["id"]))
                .values(created_at=days_ago(stay.referred))
            )
    first, last = clock().date() - timedelta(days=7), clock().date() - timedelta(days=1)

    command = ["capacity", "backfill", "--from", first.isoformat(), "--to", last.isoformat()]
    result = await asyncio.to_thread(CliRunner().invoke, main, command, env=env_for(settings))

    assert result.exit_code == 0, result.output
    series = await client.get(
        f"{API}/capacity/history",
        params={"by": "kind", "from": first.isoformat(), "to": last.isoformat()},
        headers=lead.headers,
    )
    statewide = [r for r in series.json()["rows"] if r["group"] == "statewide"]
    assert [r["day"] for r in statewide] == [(first + timedelta(days=n)).isoformat() for n in range(7)]
    for row in statewide:
        start = datetime.combine(date.fromisoformat(row["day"]), time(0), tzinfo=UTC)
        statuses = [s.status_at(midnight, start) for s in STAYS]
        assert row["source"] == "backfill"
        assert row["beds"]["held"] == statuses.count("held"), row["day"]
        assert row["beds"]["occupied"] == statuses.count("placed"), row["day"]
        assert row["youth"]["placed"] == statuses.count("placed"), row["day"]
        assert row["youth"]["awaiting"] == statuses.count("awaiting"), row["day"]
