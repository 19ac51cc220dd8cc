"""Capacity reads through the served app, each beside its statements replayed on bare asyncpg."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import click
import msgspec
from sqlalchemy import event

from placement.bench.api import API_PREFIX, bench_database
from placement.bench.capacity.data import DemoData, analyze, seed_demo
from placement.bench.households import Captured, timed
from placement.bench.load import Target
from placement.bench.recorded import REQUEST, Recording, Statement
from placement.bench.servers import serving
from placement.bench.service import Connection, Spread
from placement.capacity.counts import reading_now
from placement.capacity.history import backfill
from placement.capacity.models import GROUPINGS
from placement.capacity.schemas import CapacityHistory, CapacityOut
from placement.core.resources import Resources
from placement.core.settings import Settings, plain_postgres_url
from placement.core.uow import unit_of_work

APP_FACTORY = "placement.bench.recorded:recording_app"
WARMUP = 3
STARTUP_TIMEOUT_S = 120.0
SQL_HEAD = 60


@dataclass(frozen=True, slots=True)
class Slowest:
    """The slowest of a read's statements on asyncpg: its median, and its plan's own account of one
    run (`EXPLAIN ANALYZE`), JIT compilation included."""

    sql: str
    """Its start."""
    p50_ms: float
    execution_ms: float
    jit_ms: float


@dataclass(frozen=True, slots=True)
class Read:
    """One read through the app, beside its statements replayed on bare asyncpg."""

    path: str
    statements: int
    rows: int
    response_bytes: int
    service: Spread
    asyncpg: Spread
    slowest: Slowest | None

    @property
    def ratio(self) -> float:
        return self.service.p50_ms / self.asyncpg.p50_ms if self.asyncpg.p50_ms > 0 else float("inf")


@dataclass(frozen=True, slots=True)
class Backfill:
    days: int
    stored: int
    seconds: float
    statements: int

    @property
    def seconds_per_day(self) -> float:
        return self.seconds / self.days


@dataclass(frozen=True, slots=True)
class ScaleFigures:
    scale: int
    houses: int
    beds: int
    households: int
    caregivers: int
    completions: int
    youth: int
    placements: int
    now: Read
    backfill: Backfill
    history: Read


async def read_through_app(
    port: int, lead: Target, path: str, runs: int, recording: Recording, dsn: str
) -> tuple[Read, bytes]:
    """`GET path` N times as a program lead, and the statements of one of them replayed N times."""
    request = lead.request("GET", path)
    async with Connection.open(port) as conn:
        for _ in range(WARMUP):  # plans cached, the token checked (then cached for a minute)
            await conn.send(request, (200,))
        recording.skip()
        body = await conn.send(request, (200,))
        statements = [s for s in recording.new() if s.origin == REQUEST]
        service = await timed(runs, lambda: conn.send(request, (200,)))
    baseline, slowest = await replayed(dsn, statements, runs)
    read = Read(path, len(statements), 0, len(body), _spread(service), _spread(baseline), slowest)
    return read, body


async def replayed(dsn: str, statements: list[Statement], runs: int) -> tuple[list[float], Slowest | None]:
    """Milliseconds of each replay of `statements` in one transaction on a bare asyncpg connection,
    and the slowest of them."""
    each: list[list[float]] = [[] for _ in statements]
    connection = await asyncpg.connect(dsn)
    try:

        async def replay() -> None:
            async with connection.transaction():
                for s, times in zip(statements, each, strict=True):
                    started = time.perf_counter()
                    await connection.fetch(s.sql, *s.parameters)
                    times.append((time.perf_counter() - started) * 1000)

        baseline = await timed(runs, replay)
        if not statements:
            return baseline, None
        p50s = [statistics.median(times[-runs:]) for times in each]
        k = p50s.index(max(p50s))
        return baseline, await explained(connection, statements[k], p50s[k])
    finally:
        await connection.close()


async def explained(connection: asyncpg.Connection, s: Statement, p50_ms: float) -> Slowest:
    raw = await connection.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {s.sql}", *s.parameters)
    plan = json.loads(raw)[0]
    return Slowest(
        sql=" ".join(s.sql.split())[:SQL_HEAD],
        p50_ms=round(p50_ms, 2),
        execution_ms=round(plan["Execution Time"], 2),
        jit_ms=round(plan.get("JIT", {}).get("Timing", {}).get("Total", 0.0), 2),
    )


def _spread(milliseconds: list[float]) -> Spread:
    return Spread.of([ms / 1000 for ms in milliseconds])


async def until_started(settings: Settings) -> None:
    """Wait for the worker's snapshot at start-up (`run_at_startup`), which would compete with the
    first requests timed: one per grouping for the hour."""
    connection = await asyncpg.connect(plain_postgres_url(settings.sqlalchemy_url))
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        query = "SELECT count(*) FROM capacity_snapshots WHERE source = 'live' AND period = 'hour'"
        while await connection.fetchval(query) < len(GROUPINGS):
            if time.monotonic() > deadline:
                raise click.ClickException("the worker took no capacity snapshot at start-up")
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


# --- One scale of the demo --------------------------------------------------------------------


async def seed_and_backfill(settings: Settings, scale: int, days: int) -> tuple[DemoData, Backfill, date]:
    """The scaled demo, then the `days` days before today backfilled (statements counted)."""
    resources = await Resources.open(settings)
    try:
        data = await seed_demo(resources, settings, scale, resources.clock())
        last = resources.clock().date() - timedelta(days=1)
        first = last - timedelta(days=days - 1)
        captured = Captured()
        event.listen(resources.engine.sync_engine, "before_cursor_execute", captured)
        try:
            started = time.perf_counter()
            async with unit_of_work(resources.sessionmaker) as session:
                stored = await backfill(session, first, last, reading_now(resources), resources.settings.zone)
            seconds = time.perf_counter() - started
        finally:
            event.remove(resources.engine.sync_engine, "before_cursor_execute", captured)
        await analyze(resources)  # the snapshots' statistics, for the history read
    finally:
        await resources.close()
    return data, Backfill(days, stored, round(seconds, 3), len(captured.statements)), first


def measure_scale(
    runner: asyncio.Runner, settings: Settings, scale: int, runs: int, days: int, scratch: Path
) -> ScaleFigures:
    with bench_database(settings, runner) as db, Recording.of(scratch / f"sql-{scale}x") as recording:
        data, filled, first = runner.run(seed_and_backfill(db, scale, days))
        last = first + timedelta(days=days - 1)
        with serving(APP_FACTORY, db, recording.env) as port:
            runner.run(until_started(db))
            lead = Target("lead", port, API_PREFIX, data.lead_token)
            dsn = plain_postgres_url(db.sqlalchemy_url)
            now, body = runner.run(read_through_app(port, lead, "/capacity?by=county", runs, recording, dsn))
            counts = msgspec.json.decode(body, type=CapacityOut)
            path = f"/capacity/history?by=county&from={first}&to={last}"
            history, body = runner.run(read_through_app(port, lead, path, runs, recording, dsn))
            series = msgspec.json.decode(body, type=CapacityHistory)
    return ScaleFigures(
        scale=scale,
        houses=data.houses,
        beds=data.beds,
        households=data.households,
        caregivers=data.caregivers,
        completions=data.completions,
        youth=data.youth,
        placements=data.placements,
        now=replace(now, rows=len(counts.rows) + 1),
        backfill=filled,
        history=replace(history, rows=len(series.rows)),
    )
