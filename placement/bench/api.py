"""`placement bench api`: the free-beds endpoint against a floor running the same SQL on bare asyncpg.

Both servers run under uvicorn in subprocesses of their own, against a throw-away database loaded
with ~200 safe houses; one cheap keep-alive HTTP/1.1 client in this process drives each in turn
with the same rotating mix of realistic filters, and the figures are compared with the targets.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import json
import random
import secrets
import signal
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import asyncpg
import click
from litestar import Litestar, get
from litestar.datastructures import State
from litestar.params import Parameter

from placement.bench.load import Figures, drive, figures, request_bytes
from placement.bench.servers import serving
from placement.core import migrate
from placement.core.audit import Actor
from placement.core.databases import throwaway_database
from placement.core.embedded import embedded_servers
from placement.core.resources import Resources
from placement.core.schemas import Limit, Offset
from placement.core.security.models import User
from placement.core.security.passwords import hash_password
from placement.core.security.tokens import issue_token
from placement.core.settings import Settings, plain_postgres_url
from placement.core.uow import unit_of_work
from placement.demo import plan_safe_houses
from placement.placements.models import Placement
from placement.reference.geography import massachusetts_places
from placement.reference.loader import load_reference_data, stable_id
from placement.safehouses.availability import available_beds_sql, count_available_beds_sql
from placement.safehouses.models import Bed
from placement.safehouses.routes import bed_filter
from placement.youth.models import Youth

APP_MODULE = "placement.bench.api"  # not __name__: that is "__main__" under `python -m`
REAL_PATH = "/api/v1/beds/available"
FLOOR_PATH = "/beds/available"
MIN_THROUGHPUT_RATIO = 0.5
MAX_P99_MS = 50.0
OCCUPIED_SHARE = 0.2
MIX_SIZE = 64
SEED = 20261124
# The floor's filter check: the bench signs in as placement staff, who see exact distances.
FLOOR_ACTOR = Actor(user_id=None, name="bench floor", role="placement_staff")


# --- The two apps, each built by uvicorn (`--factory`) in its own subprocess -------------------


def real_app() -> Litestar:
    """The service itself, configured from the environment (DATABASE_URL, REDIS_URL)."""
    from placement.app import create_app

    return create_app(Settings.from_env())


@get(FLOOR_PATH)
async def floor_available_beds(
    state: State,
    region: uuid.UUID | None = None,
    county: uuid.UUID | None = None,
    age: Annotated[int | None, Parameter(ge=0, le=25)] = None,
    gender: str | None = None,
    services: list[str] | None = None,
    near: Annotated[str | None, Parameter(max_length=60)] = None,
    within_km: Annotated[float | None, Parameter(gt=0, le=500)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The real endpoint's query parameters, checks and SQL (a count past the last page too)."""
    f = bed_filter(FLOOR_ACTOR, region, county, age, gender, services or [], near, within_km)
    sql, args = available_beds_sql(f, limit, offset, exact=True)
    rows = await state.pool.fetch(sql, *args)
    if rows:
        total = rows[0]["total"]
    else:  # past the last page (or nothing matches): count without paging, as the real route does
        sql, args = count_available_beds_sql(f, exact=True)
        total = await state.pool.fetchval(sql, *args) or 0
    return {"items": [dict(row) for row in rows], "total": total, "limit": limit, "offset": offset}


def floor_app() -> Litestar:
    """A bare Litestar app: one route, no guards, a raw asyncpg pool the size of the real one."""
    settings = Settings.from_env()

    async def open_pool(app: Litestar) -> None:
        dsn = plain_postgres_url(settings.sqlalchemy_url)
        size = settings.db_pool_size
        app.state.pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size)

    async def close_pool(app: Litestar) -> None:
        await app.state.pool.close()

    return Litestar(route_handlers=[floor_available_beds], on_startup=[open_pool], on_shutdown=[close_pool])


# --- Servers and data -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenchData:
    houses: int
    beds: int
    placements: int
    token: str


async def load_bench_data(settings: Settings, houses: int) -> BenchData:
    """Reference geography, safe houses with beds, ~20% of beds held or occupied, a staff token."""
    resources = await Resources.open(settings)
    try:
        async with unit_of_work(resources.sessionmaker) as session:
            await load_reference_data(session)
        async with unit_of_work(resources.sessionmaker) as session:
            rng = random.Random(SEED)  # noqa: S311 - reproducible bench data, not secrets
            staff = User(
                username="bench-staff",
                display_name="Bench Staff",
                role="placement_staff",
                password_hash=await hash_password(secrets.token_urlsafe(24)),
            )
            session.add(staff)
            plans = plan_safe_houses(rng, count=houses, beds=(3, 12))
            session.add_all(plan.house for plan in plans)
            await session.flush()
            beds = [bed for plan in plans for bed in plan.beds]
            session.add_all(beds)
            await session.flush()
            now = datetime.now(UTC)
            taken = rng.sample(beds, round(len(beds) * OCCUPIED_SHARE))
            youth = [bench_youth(n, staff.id, now) for n in range(len(taken))]
            session.add_all(youth)
            await session.flush()
            session.add_all(
                bench_placement(n, person, bed, staff.id, now)
                for n, (person, bed) in enumerate(zip(youth, taken, strict=True))
            )
            token = issue_token(session, staff.id, settings, now)
        return BenchData(houses=len(plans), beds=len(beds), placements=len(taken), token=token)
    finally:
        await resources.close()


def bench_youth(n: int, caseworker: uuid.UUID, now: datetime) -> Youth:
    places = massachusetts_places()
    place = places[n % len(places)]
    return Youth(
        case_reference=f"BENCH-{n:05d}",
        date_of_birth=(now - timedelta(days=15 * 365)).date(),
        gender="female",
        origin_municipality_id=stable_id("municipality", place.county, place.name),
        origin_lat=place.lat,
        origin_lon=place.lon,
        urgency=3,
        max_distance_km=80,
        caseworker_id=caseworker,
    )


def bench_placement(n: int, person: Youth, bed: Bed, staff: uuid.UUID, now: datetime) -> Placement:
    """Every other placement active (confirmed), the rest held for a day."""
    active = n % 2 == 0
    return Placement(
        youth_id=person.id,
        bed_id=bed.id,
        status="active" if active else "held",
        held_until=now + timedelta(hours=24),
        created_by=staff,
        confirmed_at=now if active else None,
    )


# --- The load generator -----------------------------------------------------------------------


def request_mix(rng: random.Random, size: int = MIX_SIZE) -> list[str]:
    """Query strings: three in four search near a municipality's centroid, one in four a region."""
    places = massachusetts_places()
    regions = sorted({place.region for place in places})
    queries = []
    for n in range(size):
        age, gender = rng.randint(12, 17), rng.choices(("female", "male", "nonbinary"), (70, 22, 8))[0]
        if n % 4 == 3:
            region = stable_id("region", rng.choice(regions))
            queries.append(f"region={region}&age={age}&gender={gender}&limit=20")
            continue
        place = rng.choice(places)
        service = rng.choice(("trauma_therapy", "mental_health", "education"))
        within = rng.choice((25, 50, 100))
        queries.append(
            f"age={age}&gender={gender}&services={service}"
            f"&near={place.lat},{place.lon}&within_km={within}&limit=20"
        )
    return queries


# --- Figures ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenchResult:
    real: Figures
    floor: Figures
    concurrency: int
    seconds: float
    warmup: float
    houses: int
    beds: int
    placements: int

    @property
    def ratio(self) -> float:
        """Real throughput as a share of the floor's."""
        return self.real.throughput / self.floor.throughput if self.floor.throughput else 0.0

    @property
    def throughput_ok(self) -> bool:
        return self.ratio >= MIN_THROUGHPUT_RATIO

    @property
    def latency_ok(self) -> bool:
        return self.real.requests > 0 and self.real.p99_ms < MAX_P99_MS

    @property
    def passed(self) -> bool:
        return self.throughput_ok and self.latency_ok and not (self.real.errors or self.floor.errors)

    def as_json(self) -> dict[str, Any]:
        return {
            **dataclasses.asdict(self),
            "ratio": self.ratio,
            "targets": {"min_throughput_ratio": MIN_THROUGHPUT_RATIO, "max_p99_ms": MAX_P99_MS},
            "passed": self.passed,
        }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(result: BenchResult) -> str:
    """The table, the ratio and the verdict, as printed."""
    header = f"{'':<6} {'requests':>9} {'errors':>7} {'req/s':>9}" + "".join(
        f" {p + ' ms':>8}" for p in ("p50", "p90", "p99", "max")
    )
    lines = [
        f"GET /beds/available: {result.concurrency} clients, {result.seconds:g} s after {result.warmup:g} s "
        f"warm-up; {result.houses} safe houses, {result.beds} beds, {result.placements} held or occupied",
        header,
    ]
    for f in (result.real, result.floor):
        lines.append(
            f"{f.name:<6} {f.requests:>9} {f.errors:>7} {f.throughput:>9.1f} "
            f"{f.p50_ms:>8.2f} {f.p90_ms:>8.2f} {f.p99_ms:>8.2f} {f.max_ms:>8.2f}"
        )
        lines.extend(f"  {f.name} error: {sample}" for sample in f.error_samples)
    lines += [
        f"ratio real/floor throughput: {result.ratio:.2f}  "
        f"(target >= {MIN_THROUGHPUT_RATIO:.2f}) {verdict(result.throughput_ok)}",
        f"real p99: {result.real.p99_ms:.2f} ms  (target < {MAX_P99_MS:g} ms) {verdict(result.latency_ok)}",
        f"verdict: {verdict(result.passed)}"
        + ("" if result.real.errors == result.floor.errors == 0 else " (some responses were not 200)"),
    ]
    return "\n".join(lines)


# --- The run ----------------------------------------------------------------------------------


def client_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    if importlib.util.find_spec("uvloop"):
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop


def run_api_bench(
    settings: Settings, houses: int, seconds: float, warmup: float, concurrency: int
) -> BenchResult:
    """Set up servers and data, measure the real app then the floor, and tear everything down."""
    with contextlib.ExitStack() as stack:
        runner = stack.enter_context(asyncio.Runner(loop_factory=client_loop_factory()))
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="placement-bench-")))
        servers = stack.enter_context(embedded_servers(replace(settings, data_dir=scratch)))
        bench_settings = stack.enter_context(throwaway_database(servers, "placement_bench", runner.run))
        migrate.upgrade(bench_settings)
        data = runner.run(load_bench_data(bench_settings, houses))
        real_port = stack.enter_context(serving(f"{APP_MODULE}:real_app", bench_settings))
        floor_port = stack.enter_context(serving(f"{APP_MODULE}:floor_app", bench_settings))
        mix = request_mix(random.Random(SEED))  # noqa: S311 - a reproducible request mix
        measured = []
        for name, port, path, token in (
            ("real", real_port, REAL_PATH, data.token),
            ("floor", floor_port, FLOOR_PATH, None),
        ):
            requests = [request_bytes(port, path, query, token) for query in mix]
            run = runner.run(drive(port, requests, concurrency, warmup, seconds))
            measured.append(figures(name, run))
        return BenchResult(
            real=measured[0],
            floor=measured[1],
            concurrency=concurrency,
            seconds=seconds,
            warmup=warmup,
            houses=data.houses,
            beds=data.beds,
            placements=data.placements,
        )


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM acts as Ctrl-C: asyncio cancels the running step, then the servers and database go.

    SIGINT gets Python's own handler meanwhile, even if a shell started this process ignoring it.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.raise_signal(signal.SIGINT)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("api")
@click.option("--concurrency", default=32, show_default=True, type=click.IntRange(1, 1000))
@click.option("--seconds", default=10.0, show_default=True, type=click.FloatRange(min=0.1))
@click.option("--warmup", default=2.0, show_default=True, type=click.FloatRange(min=0))
@click.option("--houses", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures here."
)
def api_bench(concurrency: int, seconds: float, warmup: float, houses: int, json_path: Path | None) -> None:
    """Free beds over HTTP: the real app against a bare asyncpg floor running the same SQL."""
    with interruptible():
        result = run_api_bench(Settings.from_env(), houses, seconds, warmup, concurrency)
    click.echo(report(result))
    if json_path is not None:
        json_path.write_text(json.dumps(result.as_json(), indent=2) + "\n")


if __name__ == "__main__":
    api_bench()
