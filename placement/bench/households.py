"""`placement bench households`: reading households through the service against the same SQL on
bare asyncpg, in one run.

A throw-away database gets the reference geography, the training catalog and N households (3,000
by default) with their caregivers and completions. Two reads are timed, each in its own
transaction, many times over:

- a page of 100 households with their readiness (`GET /households?limit=100`'s service): the
  statements it sends are counted and captured, then replayed as they were on a bare asyncpg
  connection as its baseline;
- free homes near a point (`GET /households/available`'s service, 50 a page): beside its own
  compiled SQL run on bare asyncpg.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import click
from sqlalchemy import event, text

from caregivers.demo import household_rows, plan_completions, plan_households, seeded_modules
from caregivers.households.available import HouseholdFilter, available_statements, list_available_households
from caregivers.households.service import Reading, list_households
from caregivers.training.catalog import load_training_catalog
from placement.bench.api import bench_database, client_loop_factory
from placement.core.audit import Actor
from placement.core.resources import Resources
from placement.core.security.models import User
from placement.core.security.passwords import hash_password
from placement.core.settings import Settings, plain_postgres_url
from placement.core.uow import unit_of_work
from placement.demo import place_in_homes, plan_youth
from placement.placements.occupancy import places_taken
from placement.reference.loader import load_reference_data
from placement.reference.nearby import PlaceFilter

SEED = 20261202
PAGE = 100
AVAILABLE_PAGE = 50
BOSTON = (42.3601, -71.0589)
CASEWORKER = Actor(user_id=uuid.UUID(int=7), name="bench caseworker", role="caseworker")
STAFF = Actor(user_id=uuid.UUID(int=8), name="bench staff", role="placement_staff")


@dataclass(frozen=True, slots=True)
class Timing:
    """One read: milliseconds per call through the service and on bare asyncpg."""

    read: str
    statements: int
    rows: int
    service_p50_ms: float
    service_mean_ms: float
    asyncpg_p50_ms: float
    asyncpg_mean_ms: float

    @property
    def ratio(self) -> float:
        """The service's median time as a multiple of asyncpg's."""
        return self.service_p50_ms / self.asyncpg_p50_ms


async def timed(runs: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    """Milliseconds of each of `runs` calls, after two to warm caches and statement plans."""
    for _ in range(2):
        await call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return times


async def bench_user(role: str) -> User:
    return User(
        username=f"bench-{role}",
        display_name=f"Bench {role}",
        role=role,
        password_hash=await hash_password(secrets.token_urlsafe(24)),
    )


async def seed(resources: Resources, households: int, now: datetime) -> None:
    """The demo's households at scale: one youth for every ten homes, kin homes related to them,
    caregivers' completions, and youth held or placed in homes that may take them."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible bench data
    async with unit_of_work(resources.sessionmaker) as session:
        await load_reference_data(session)
        await load_training_catalog(session)
    async with unit_of_work(resources.sessionmaker) as session:
        staff, caseworker = await bench_user("placement_staff"), await bench_user("caseworker")
        session.add_all([staff, caseworker])
        await session.flush()
        youth = [plan_youth(rng, n, [caseworker.id], now.date()) for n in range(1, households // 10 + 1)]
        plans = plan_households(rng, households, now, [y.id for y in youth])
        homes, caregivers, related = household_rows(plans)
        session.add_all([*youth, *homes])
        await session.flush()
        session.add_all([*caregivers, *related])
        await session.flush()
        modules = await seeded_modules(session)
        session.add_all(plan_completions(rng, plans, modules, now.date(), staff.id))
        session.add_all(place_in_homes(rng, youth, plans, staff.id, now))
    async with resources.engine.begin() as connection:  # statistics, as autovacuum would gather
        await connection.execute(text("ANALYZE"))


class Captured:
    """The statements the engine sends to the database (SQL and parameters), while listening."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def __call__(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        self.statements.append((statement, tuple(parameters or ())))


async def page_with_readiness(resources: Resources, runs: int, now: datetime) -> Timing:
    settings = resources.settings
    reading = Reading(places_taken, now, settings.stale_after_days, settings.readiness_counts_self_reported)

    async def service() -> int:
        async with unit_of_work(resources.sessionmaker, CASEWORKER) as session:
            page = await list_households(session, CASEWORKER, reading, [], PAGE, 0)
        return len(page.items)

    captured = Captured()
    event.listen(resources.engine.sync_engine, "before_cursor_execute", captured)
    try:
        rows = await service()
    finally:
        event.remove(resources.engine.sync_engine, "before_cursor_execute", captured)
    service_times = await timed(runs, service)
    connection = await asyncpg.connect(plain_postgres_url(resources.settings.sqlalchemy_url))
    try:

        async def replay() -> None:
            async with connection.transaction():
                for sql, args in captured.statements:
                    await connection.fetch(sql, *args)

        baseline = await timed(runs, replay)
    finally:
        await connection.close()
    return _timing(
        "page of 100 households with readiness", len(captured.statements), rows, service_times, baseline
    )


async def available_near(resources: Resources, runs: int, now: datetime, exact: bool) -> Timing:
    """Free homes near a point as staff see them (`exact`), or banded, as caseworkers do."""
    settings = resources.settings
    reading = Reading(places_taken, now, settings.stale_after_days, settings.readiness_counts_self_reported)
    f = HouseholdFilter(PlaceFilter(age=14, near=BOSTON))

    actor = STAFF if exact else CASEWORKER

    async def service() -> int:
        async with unit_of_work(resources.sessionmaker, actor) as session:
            page = await list_available_households(session, f, AVAILABLE_PAGE, 0, exact, reading)
        return len(page.items)

    rows = await service()
    service_times = await timed(runs, service)
    statement, _ = available_statements(f, exact, reading)
    values = {**f.values(now, resources.settings.stale_after_days), "limit": AVAILABLE_PAGE, "offset": 0}
    connection = await asyncpg.connect(plain_postgres_url(resources.settings.sqlalchemy_url))
    try:

        async def direct() -> None:
            async with connection.transaction():
                await statement.fetch(connection, **values)

        baseline = await timed(runs, direct)
    finally:
        await connection.close()
    seen = "exact" if exact else "banded"
    return _timing(f"free homes near a point, 50 a page, {seen}", 1, rows, service_times, baseline)


def _timing(read: str, statements: int, rows: int, service: list[float], baseline: list[float]) -> Timing:
    return Timing(
        read=read,
        statements=statements,
        rows=rows,
        service_p50_ms=round(statistics.median(service), 2),
        service_mean_ms=round(statistics.fmean(service), 2),
        asyncpg_p50_ms=round(statistics.median(baseline), 2),
        asyncpg_mean_ms=round(statistics.fmean(baseline), 2),
    )


async def measure(settings: Settings, households: int, runs: int) -> list[Timing]:
    resources = await Resources.open(settings)
    try:
        now = datetime.now(UTC)
        await seed(resources, households, now)
        return [
            await page_with_readiness(resources, runs, now),
            await available_near(resources, runs, now, exact=True),
            await available_near(resources, runs, now, exact=False),
        ]
    finally:
        await resources.close()


def report(households: int, timings: list[Timing]) -> str:
    lines = [
        f"households: {households}",
        f"{'read':<50} {'stmts':>5} {'rows':>5} {'service p50':>12} {'asyncpg p50':>12} {'ratio':>6}",
    ]
    for t in timings:
        lines.append(
            f"{t.read:<50} {t.statements:>5} {t.rows:>5} {t.service_p50_ms:>10.2f}ms "
            f"{t.asyncpg_p50_ms:>10.2f}ms {t.ratio:>5.2f}x"
        )
    return "\n".join(lines)


@click.command("households")
@click.option("--households", default=3000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--runs", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def households_bench(households: int, runs: int, as_json: bool) -> None:
    """Households read through the service beside the same SQL on bare asyncpg."""
    settings = Settings.from_env()
    with asyncio.Runner(loop_factory=client_loop_factory()) as runner, bench_database(settings, runner) as db:
        timings = runner.run(measure(db, households, runs))
    if as_json:
        click.echo(json.dumps([{**asdict(t), "ratio": round(t.ratio, 2)} for t in timings], indent=2))
    else:
        click.echo(report(households, timings))
