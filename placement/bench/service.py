"""`placement bench service`: match requests end to end through the API and its inline worker.

A throw-away database gets statewide safe houses and households (1,500 free beds and 8,500 homes
by default: 10,000 targets) and 2,000 youth awaiting placement, each on a caseworker's caseload.
The real service runs under uvicorn in a subprocess with the arq worker inline, as `placement
serve` runs it. In one run:

1. request -> proposals: one caller at a time, as the youth's caseworker, POSTs a match request
   and GETs it with `?wait=10` until it is answered; end-to-end latency over N requests;
2. the floor: the same youth's instance loaded in this process (`load_instance`) and ranked
   (`solve_instance(mode="rank")`), with no HTTP, queue or pool process;
3. batch: every other awaiting youth gets an open request (written directly), then placement staff
   POST a batch and poll it until solved; its total time, and the peak RSS of the serving process
   with its children (the solver's pool process), sampled every 50 ms;
4. free beds: closed-loop clients on `GET /beds/available` for a few seconds at rest, then for as
   long as the batch takes: their p99s and its ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

import click
import msgspec
import psutil
from arq.constants import default_queue_name, health_check_key_suffix
from litestar import Litestar
from redis.asyncio import Redis

from placement.bench.api import API_PREFIX, bench_database, client_loop_factory, interruptible
from placement.bench.load import Target, percentile_ms, read_response
from placement.bench.scenarios import request_mix
from placement.bench.servers import HOST, serving
from placement.bench.service_data import Awaiting, ServiceData, open_requests_directly, seed
from placement.core.resources import Resources
from placement.core.settings import Settings
from placement.matches.loading import Candidates, load_instance
from placement.matching.cli import solve_instance

APP_FACTORY = "placement.bench.service:service_app"
ANSWERED = frozenset({"proposed", "no_match"})
PROPOSALS = 5
BATCH_POLL_S = 0.1
BATCH_TIMEOUT_S = 300.0
SAMPLE_EVERY_S = 0.05
GIB = 1024**3

# Targets
REQUEST_P50_MS, REQUEST_P99_MS = 150.0, 400.0
BATCH_MAX_S, BATCH_MAX_RSS = 10.0, 1.5 * GIB
FREE_BEDS_MAX_RATIO = 2.0


def service_app() -> Litestar:
    """The service as `placement serve` runs it in one process: the arq worker inline."""
    from placement.app import create_app

    return create_app(replace(Settings.from_env(), run_worker_inline=True))


def with_redis_db(url: str, db: int) -> str:
    """The same Redis server, database `db` (query string kept)."""
    base, _, query = url.partition("?")
    scheme, _, rest = base.partition("://")
    server = rest.split("/", 1)[0]
    return f"{scheme}://{server}/{db}" + (f"?{query}" if query else "")


def settings_on_redis_db(db: int) -> Settings:
    """The environment's settings, with Redis on database `db` of the same server."""
    settings = Settings.from_env()
    if settings.redis_url:
        settings = replace(settings, redis_url=with_redis_db(settings.redis_url, db))
    return settings


async def refuse_busy_queue(redis_url: str) -> None:
    """Refuse to run beside another arq worker on the same Redis db: the two would take each
    other's jobs, solve them against the wrong database (skipped), and leave the requests to the
    sweep, a minute later. A live worker keeps its health-check key set."""
    redis = Redis.from_url(redis_url)
    try:
        busy = await redis.exists(default_queue_name + health_check_key_suffix)
    finally:
        await redis.aclose()
    if busy:
        raise click.UsageError(
            f"another worker is consuming the job queue on {redis_url}: pick a free --redis-db"
        )


# --- Figures ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spread:
    p50_ms: float
    p99_ms: float
    max_ms: float
    count: int

    @classmethod
    def of(cls, seconds: list[float]) -> Spread:
        ordered = sorted(seconds)
        return cls(
            p50_ms=round(percentile_ms(ordered, 50), 2),
            p99_ms=round(percentile_ms(ordered, 99), 2),
            max_ms=round(percentile_ms(ordered, 100), 2),
            count=len(ordered),
        )


@dataclass(frozen=True, slots=True)
class BatchFigures:
    status: str
    seconds: float
    placed: int | None
    gap: float | None
    requests: int
    peak_rss_bytes: int
    peak_rss_by_process: dict[str, int]
    rss_before_bytes: int


@dataclass(frozen=True, slots=True)
class ServiceBenchResult:
    houses: int
    beds: int
    households: int
    caregivers: int
    completions: int
    placed_in_homes: int
    targets: int
    youth: int
    caseworkers: int
    requests: Spread
    no_match: int
    floor_load: Spread
    floor_rank: Spread
    floor_rank_both: Spread
    floor_total: Spread
    batch: BatchFigures
    free_beds_clients: int
    free_beds_at_rest: Spread
    free_beds_during_batch: Spread

    @property
    def free_beds_ratio(self) -> float:
        rest = self.free_beds_at_rest.p99_ms
        return self.free_beds_during_batch.p99_ms / rest if rest > 0 else float("inf")

    @property
    def verdicts(self) -> dict[str, bool]:
        return {
            "request p50": self.requests.p50_ms < REQUEST_P50_MS,
            "request p99": self.requests.p99_ms < REQUEST_P99_MS,
            "batch time": self.batch.status == "solved" and self.batch.seconds < BATCH_MAX_S,
            "batch peak RSS": self.batch.peak_rss_bytes < BATCH_MAX_RSS,
            "free beds p99 ratio": self.free_beds_ratio <= FREE_BEDS_MAX_RATIO,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "free_beds_ratio": round(self.free_beds_ratio, 2),
            "verdicts": self.verdicts,
            "passed": all(self.verdicts.values()),
        }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def spread_row(name: str, s: Spread) -> str:
    return f"  {name:<44} {s.count:>5} {s.p50_ms:>9.1f} {s.p99_ms:>9.1f} {s.max_ms:>9.1f}"


def report(r: ServiceBenchResult) -> str:
    v, b = r.verdicts, r.batch
    mib = 1024**2
    by_process = ", ".join(f"{name} {rss / mib:.0f}" for name, rss in b.peak_rss_by_process.items())
    header = f"  {'':<44} {'n':>5} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}"
    lines = [
        f"{r.houses} safe houses with {r.beds} free beds, {r.households} households ({r.caregivers} "
        f"caregivers, {r.completions} completions, {r.placed_in_homes} youth in homes): {r.targets} "
        f"targets; {r.youth} youth awaiting placement on {r.caseworkers} caseloads",
        "",
        "1-2. request -> proposals, one caller at a time, beside the same work in process",
        header,
        spread_row("service: POST, then GET ?wait=10 until answered", r.requests),
        spread_row("floor: load_instance", r.floor_load),
        spread_row("floor: solve_instance rank (exact)", r.floor_rank),
        spread_row("floor: rank exact + banded (as the job does)", r.floor_rank_both),
        spread_row("floor: load + rank exact + banded", r.floor_total),
        f"  answered no_match: {r.no_match} of {r.requests.count}",
        f"  service p50 {r.requests.p50_ms:.1f} ms (target < {REQUEST_P50_MS:g}) "
        f"{verdict(v['request p50'])}; p99 {r.requests.p99_ms:.1f} ms "
        f"(target < {REQUEST_P99_MS:g}) {verdict(v['request p99'])}",
        "",
        f"3. batch: {b.requests} open requests x {r.targets} targets, POST /matching/batch -> solved",
        f"  status {b.status}, placed {b.placed}, gap {b.gap}",
        f"  total {b.seconds:.2f} s (target < {BATCH_MAX_S:g} s) {verdict(v['batch time'])}",
        f"  peak RSS, server and children {b.peak_rss_bytes / mib:.0f} MiB (target < "
        f"{BATCH_MAX_RSS / mib:.0f} MiB) {verdict(v['batch peak RSS'])}; at the peak: {by_process} MiB; "
        f"before the batch {b.rss_before_bytes / mib:.0f} MiB",
        "",
        f"4. GET /beds/available, {r.free_beds_clients} closed-loop clients as placement staff",
        header,
        spread_row("at rest", r.free_beds_at_rest),
        spread_row("while the batch solves", r.free_beds_during_batch),
        f"  p99 ratio {r.free_beds_ratio:.2f} (target <= {FREE_BEDS_MAX_RATIO:g}) "
        f"{verdict(v['free beds p99 ratio'])}",
        "",
    ]
    missed = [name for name, ok in v.items() if not ok]
    lines.append(f"verdict: {verdict(not missed)}" + (f" ({', '.join(missed)})" if missed else ""))
    return "\n".join(lines)


# --- A keep-alive connection ------------------------------------------------------------------


class Answer(msgspec.Struct):
    id: uuid.UUID
    status: str


class BatchAnswer(msgspec.Struct):
    id: uuid.UUID
    status: str
    seconds: float | None = None
    placed: int | None = None
    gap: float | None = None


class Connection:
    """One HTTP/1.1 keep-alive connection to the service."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, port: int) -> Any:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            yield cls(reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def send(self, request: bytes, expected: tuple[int, ...]) -> bytes:
        self.writer.write(request)
        status, body = await read_response(self.reader)
        if status not in expected:
            raise click.ClickException(f"HTTP {status}: {body[:300].decode(errors='replace')}")
        return body


async def ask_and_wait(conn: Connection, target: Target, youth_id: uuid.UUID) -> str:
    """POST a match request for one youth, then GET it with ?wait=10 until answered."""
    body = msgspec.json.encode({"youth_ids": [str(youth_id)], "proposals": PROPOSALS})
    answer = msgspec.json.decode(
        await conn.send(target.request("POST", "/match-requests", body), (202,)), type=Answer
    )
    while answer.status not in ANSWERED:
        if answer.status not in ("queued", "solving"):
            raise click.ClickException(f"match request {answer.id} ended {answer.status}")
        raw = await conn.send(target.request("GET", f"/match-requests/{answer.id}?wait=10"), (200,))
        answer = msgspec.json.decode(raw, type=Answer)
    return answer.status


async def requests_end_to_end(port: int, asked: list[Awaiting], warmup: int) -> tuple[list[float], int]:
    """Latency of each request after the first `warmup` (which start the solver's pool process)."""
    times, no_match = [], 0
    async with Connection.open(port) as conn:
        for n, person in enumerate(asked):
            target = Target("service", port, API_PREFIX, person.caseworker_token)
            started = time.perf_counter()
            status = await ask_and_wait(conn, target, person.youth_id)
            if n >= warmup:
                times.append(time.perf_counter() - started)
                no_match += status == "no_match"
    return times, no_match


# --- The floor --------------------------------------------------------------------------------


async def floor(settings: Settings, youth_ids: list[uuid.UUID]) -> tuple[list[float], ...]:
    """Per youth: load_instance (narrowed, as a request's first pass), rank exact, rank exact and
    banded, and the sum, in seconds."""
    resources = await Resources.open(settings)
    loads, ranks, boths, totals = [], [], [], []
    try:
        for youth_id in youth_ids:
            now = datetime.now(UTC)
            started = time.perf_counter()
            async with resources.sessionmaker() as session:
                instance = await load_instance(
                    session,
                    [youth_id],
                    now,
                    settings.readiness_counts_self_reported,
                    candidates=Candidates(narrowed=True),  # as the service's first pass loads it
                )
            loaded = time.perf_counter()
            solve_instance(instance, mode="rank", limit=PROPOSALS)
            ranked = time.perf_counter()
            solve_instance(instance, mode="rank", limit=PROPOSALS, banded=True)
            done = time.perf_counter()
            loads.append(loaded - started)
            ranks.append(ranked - loaded)
            boths.append(done - loaded)
            totals.append(done - started)
    finally:
        await resources.close()
    return loads, ranks, boths, totals


# --- Batch, memory and free beds --------------------------------------------------------------


class RssSampler:
    """The peak summed RSS of a process and its descendants, sampled on a thread."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self.peak_by_process: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> tuple[int, dict[str, int]]:
        by_process: dict[str, int] = {}
        for process in [self.root, *self.root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                name = "server" if process.pid == self.root.pid else f"child {process.pid}"
                by_process[name] = process.memory_info().rss
        return sum(by_process.values()), by_process

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            total, by_process = self.sample()
            if total > self.peak:
                self.peak, self.peak_by_process = total, by_process

    @contextlib.contextmanager
    def running(self) -> Iterator[RssSampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


async def free_beds_loop(port: int, requests: list[bytes], clients: int, stop: asyncio.Event) -> list[float]:
    """Closed-loop clients through a shared rotation of searches until `stop` is set."""
    latencies: list[float] = []
    turn = iter(range(1 << 62))

    async def client() -> None:
        async with Connection.open(port) as conn:
            while not stop.is_set():
                request = requests[next(turn) % len(requests)]
                started = time.perf_counter()
                await conn.send(request, (200,))
                if not stop.is_set():
                    latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


async def free_beds_at_rest(port: int, requests: list[bytes], clients: int, seconds: float) -> list[float]:
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    return await free_beds_loop(port, requests, clients, stop)


async def batch_with_free_beds(
    port: int, staff: Target, requests: list[bytes], clients: int
) -> tuple[BatchAnswer, float, list[float]]:
    """Start a batch and poll it until it ends, with the free-bed clients running meanwhile."""
    stop = asyncio.Event()
    searching = asyncio.create_task(free_beds_loop(port, requests, clients, stop))
    try:
        async with Connection.open(port) as conn:
            started = time.perf_counter()
            raw = await conn.send(staff.request("POST", "/matching/batch", b""), (202,))
            batch = msgspec.json.decode(raw, type=BatchAnswer)
            deadline = started + BATCH_TIMEOUT_S
            while batch.status in ("queued", "solving") and time.perf_counter() < deadline:
                await asyncio.sleep(BATCH_POLL_S)
                raw = await conn.send(staff.request("GET", f"/matching/batch/{batch.id}"), (200,))
                batch = msgspec.json.decode(raw, type=BatchAnswer)
            seconds = time.perf_counter() - started
    finally:
        stop.set()
        latencies = await searching
    return batch, seconds, latencies


# --- The run ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scale:
    beds: int
    households: int
    youth: int
    requests: int
    warmup: int
    caseworkers: int
    free_beds_seconds: float
    clients: int


def server_pid(port: int) -> int:
    """Our uvicorn subprocess serving on `port` (one worker: it serves in its own process)."""
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if "uvicorn" in child.cmdline() and str(port) in child.cmdline():
                pid: int = child.pid
                return pid
    raise click.ClickException(f"no uvicorn subprocess of ours serves port {port}")


def run_service_bench(settings: Settings, scale: Scale) -> ServiceBenchResult:
    asked_count = scale.warmup + scale.requests
    if asked_count > scale.youth:
        raise click.UsageError(
            f"--youth {scale.youth} is fewer than --requests plus --warmup ({asked_count})"
        )
    with contextlib.ExitStack() as stack:
        runner = stack.enter_context(asyncio.Runner(loop_factory=client_loop_factory()))
        if settings.redis_url:
            runner.run(refuse_busy_queue(settings.redis_url))
        db = stack.enter_context(bench_database(settings, runner))
        data: ServiceData = runner.run(_seed(db, scale))
        port = stack.enter_context(serving(APP_FACTORY, db))
        asked = data.awaiting[:asked_count]
        times, no_match = runner.run(requests_end_to_end(port, asked, scale.warmup))
        loads, ranks, boths, totals = runner.run(floor(db, [a.youth_id for a in asked[scale.warmup :]]))
        rest = [a.youth_id for a in data.awaiting[asked_count:]]
        runner.run(_open_directly(db, rest, data.staff_id))
        staff = Target("service", port, API_PREFIX, data.staff_token)
        mix = request_mix(random.Random(data.beds))  # noqa: S311 - a reproducible request mix
        searches = [staff.request("GET", f"/beds/available?{query}") for query in mix]
        at_rest = runner.run(free_beds_at_rest(port, searches, scale.clients, scale.free_beds_seconds))
        sampler = RssSampler(server_pid(port))
        before, _ = sampler.sample()
        with sampler.running():
            batch, seconds, during = runner.run(batch_with_free_beds(port, staff, searches, scale.clients))
        return ServiceBenchResult(
            houses=data.houses,
            beds=data.beds,
            households=data.households,
            caregivers=data.caregivers,
            completions=data.completions,
            placed_in_homes=data.placed_in_homes,
            targets=data.targets,
            youth=len(data.awaiting),
            caseworkers=data.caseworkers,
            requests=Spread.of(times),
            no_match=no_match,
            floor_load=Spread.of(loads),
            floor_rank=Spread.of(ranks),
            floor_rank_both=Spread.of(boths),
            floor_total=Spread.of(totals),
            batch=BatchFigures(
                status=batch.status,
                seconds=round(seconds, 3),
                placed=batch.placed,
                gap=batch.gap,
                requests=len(data.awaiting),
                peak_rss_bytes=sampler.peak,
                peak_rss_by_process=sampler.peak_by_process,
                rss_before_bytes=before,
            ),
            free_beds_clients=scale.clients,
            free_beds_at_rest=Spread.of(at_rest),
            free_beds_during_batch=Spread.of(during),
        )


async def _seed(settings: Settings, scale: Scale) -> ServiceData:
    resources = await Resources.open(settings)
    try:
        return await seed(resources, settings, scale.beds, scale.households, scale.youth, scale.caseworkers)
    finally:
        await resources.close()


async def _open_directly(settings: Settings, youth_ids: list[uuid.UUID], staff_id: uuid.UUID) -> None:
    resources = await Resources.open(settings)
    try:
        await open_requests_directly(resources, youth_ids, staff_id)
    finally:
        await resources.close()


@click.command("service")
@click.option("--beds", default=1500, show_default=True, type=click.IntRange(1, 50_000))
@click.option("--households", default=8500, show_default=True, type=click.IntRange(1, 100_000))
@click.option(
    "--youth",
    default=2000,
    show_default=True,
    type=click.IntRange(1, 20_000),
    help="Youth awaiting placement; each has an open request when the batch starts.",
)
@click.option("--requests", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--warmup", default=3, show_default=True, type=click.IntRange(0, 100))
@click.option("--caseworkers", default=25, show_default=True, type=click.IntRange(1, 1000))
@click.option("--free-beds-seconds", default=5.0, show_default=True, type=click.FloatRange(min=0.1))
@click.option("--clients", default=4, show_default=True, type=click.IntRange(1, 100))
@click.option(
    "--redis-db", default=11, show_default=True, type=click.IntRange(0, 15), help="The bench's Redis db."
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def service_bench(
    beds: int,
    households: int,
    youth: int,
    requests: int,
    warmup: int,
    caseworkers: int,
    free_beds_seconds: float,
    clients: int,
    redis_db: int,
    as_json: bool,
) -> None:
    """Match requests and a batch through the API and its inline worker, beside the in-process floor."""
    settings = settings_on_redis_db(redis_db)
    scale = Scale(beds, households, youth, requests, warmup, caseworkers, free_beds_seconds, clients)
    with interruptible():
        result = run_service_bench(settings, scale)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        click.echo(report(result))


if __name__ == "__main__":
    service_bench()
