"""`placement bench capacity`: a program lead's capacity figures through the real service, each
beside a baseline measured in the same run.

For each scale of the demo's data set (1x and 10x by default, `placement.bench.capacity_data`), in
a throw-away database, with the service running under uvicorn with its worker inline and recording
the statements it sends (`placement.bench.recorded`):

1. `GET /capacity?by=county` over HTTP as a program lead, N times: p50/p99, the SQL statements one
   request sends, and those statements replayed on a bare asyncpg connection N times;
2. 90 days backfilled (`placement.capacity.history.backfill`, in this process): seconds and
   statements per day; then `GET /capacity/history?by=county` over those days, as in 1.

Then, at the service bench's scale (`placement.bench.service_data`: 1,500 beds and 8,500 households,
10,000 targets, and 2,000 youth awaiting), a what-if training one region's homes for
trafficking-specialised care: POSTed and polled until answered, twice (the first starts the solver's
pool process), with the peak RSS of the server and its children and the statements the server sent
for it; beside the floor, `placement.capacity.whatif.what_if` on the same data in this process, its
load and its two solves timed apart. The pool process loads the instance over a connection of its
own, unseen by the recording: it sends what the floor's load sends (`load_snapshot`), counted there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import click
import msgspec
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker

from placement.bench.api import API_PREFIX, bench_database, client_loop_factory, interruptible
from placement.bench.capacity_data import DemoData, analyze, lead_token, seed_demo
from placement.bench.households import Captured, timed
from placement.bench.load import Target
from placement.bench.recorded import REQUEST, Recording, Statement
from placement.bench.servers import serving
from placement.bench.service import (
    Connection,
    RssSampler,
    Spread,
    refuse_busy_queue,
    server_pid,
    with_redis_db,
)
from placement.bench.service_data import seed as seed_service_data
from placement.capacity.counts import reading_now
from placement.capacity.history import backfill
from placement.capacity.models import GROUPINGS
from placement.capacity.schemas import CapacityHistory, CapacityOut, TrainingChange, WhatIfCreate, WhatIfOut
from placement.capacity.trials import engine_scenario
from placement.capacity.whatif import what_if
from placement.core.resources import Resources
from placement.core.settings import Settings, plain_postgres_url
from placement.core.uow import unit_of_work
from placement.core.vocabulary import CareLevel
from placement.matches.loading import load_snapshot
from placement.matching.limits import DEFAULT_EFFORT, DEFAULT_SECONDS

APP_FACTORY = "placement.bench.recorded:recording_app"
WARMUP = 3
POLL_S = 0.1
WHAT_IF_TIMEOUT_S = 600.0
STARTUP_TIMEOUT_S = 120.0
LEVEL: CareLevel = "trafficking_specialized"
JOB = "try_what_if"
MIB = 1024**2


# --- Figures ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Read:
    """One read through the app, beside its statements replayed on bare asyncpg."""

    path: str
    statements: int
    rows: int
    response_bytes: int
    service: Spread
    asyncpg: Spread

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


@dataclass(frozen=True, slots=True)
class Trial:
    """One what-if through the service: POST, then GET every 100 ms until answered."""

    status: str
    seconds: float
    polls: int
    ask_statements: int
    poll_statements: int
    job_statements: int
    rss_before_bytes: int
    peak_rss_bytes: int
    peak_rss_by_process: dict[str, int]
    households_trained: int | None
    awaiting: int | None
    placed_before: int | None
    placed_after: int | None


@dataclass(frozen=True, slots=True)
class Floor:
    """The same what-if in this process: load (`load_snapshot`), then `what_if` (both solves)."""

    load_seconds: float
    load_statements: int
    solve_seconds: float
    status_before: str
    status_after: str
    households_trained: int
    awaiting: int
    placed_before: int
    placed_after: int

    @property
    def seconds(self) -> float:
        return self.load_seconds + self.solve_seconds


@dataclass(frozen=True, slots=True)
class WhatIfFigures:
    beds: int
    households: int
    targets: int
    youth: int
    region: str
    first: Trial
    again: Trial
    floor: Floor


@dataclass(frozen=True, slots=True)
class CapacityBenchResult:
    runs: int
    scales: list[ScaleFigures]
    what_if: WhatIfFigures | None

    def as_json(self) -> dict[str, Any]:
        found = asdict(self)
        for scale, figures in zip(self.scales, found["scales"], strict=True):
            for read in ("now", "history"):
                figures[read]["ratio"] = round(getattr(scale, read).ratio, 2)
            figures["backfill"]["seconds_per_day"] = round(scale.backfill.seconds_per_day, 4)
        return found


# --- Reads through the app --------------------------------------------------------------------


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
    baseline = await replayed(dsn, statements, runs)
    read = Read(path, len(statements), 0, len(body), _spread(service), _spread(baseline))
    return read, body


async def replayed(dsn: str, statements: list[Statement], runs: int) -> list[float]:
    """Milliseconds of each replay of `statements` in one transaction on a bare asyncpg connection."""
    connection = await asyncpg.connect(dsn)
    try:

        async def replay() -> None:
            async with connection.transaction():
                for s in statements:
                    await connection.fetch(s.sql, *s.parameters)

        return await timed(runs, replay)
    finally:
        await connection.close()


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


# --- What-if at the service bench's scale -----------------------------------------------------


async def seed_for_what_if(
    settings: Settings, beds: int, households: int, youth: int
) -> tuple[int, int, int, str]:
    """The service bench's data and a program lead: (beds, households, awaiting youth, token)."""
    resources = await Resources.open(settings)
    try:
        data = await seed_service_data(resources, settings, beds, households, youth, caseworkers=25)
        token = await lead_token(resources, settings, resources.clock())
    finally:
        await resources.close()
    return data.beds, data.households, len(data.awaiting), token


async def what_if_floor(settings: Settings, asked: WhatIfCreate) -> Floor:
    """The job's work in this process: the same scenario, load and solves, timed apart."""
    resources = await Resources.open(settings)
    try:
        async with unit_of_work(resources.sessionmaker) as session:
            scenario = await engine_scenario(session, asked)
        now, engine = resources.clock(), resources.engine
        captured = Captured()
        event.listen(engine.sync_engine, "before_cursor_execute", captured)
        try:
            started = time.perf_counter()
            instance = await load_snapshot(
                async_sessionmaker(engine), None, now, resources.settings.readiness_counts_self_reported
            )
            loaded = time.perf_counter()
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", captured)
        answer = what_if(instance, scenario, DEFAULT_EFFORT, DEFAULT_SECONDS)
        solved = time.perf_counter()
    finally:
        await resources.close()
    return Floor(
        load_seconds=round(loaded - started, 3),
        load_statements=len(captured.statements),
        solve_seconds=round(solved - loaded, 3),
        status_before=answer.status_before,
        status_after=answer.status_after,
        households_trained=answer.changes.households_trained,
        awaiting=answer.placed.awaiting,
        placed_before=answer.placed.before,
        placed_after=answer.placed.after,
    )


async def ask_what_if(port: int, lead: Target, body: bytes, recording: Recording) -> tuple[Trial, float]:
    """POST the scenario, then GET it every 100 ms until answered; RSS is the caller's to sample."""
    recording.skip()
    async with Connection.open(port) as conn:
        started = time.perf_counter()
        raw = await conn.send(lead.request("POST", "/capacity/what-if", body), (202,))
        asked = recording.new()
        answer = msgspec.json.decode(raw, type=WhatIfOut)
        polls = 0
        while answer.status in ("queued", "solving"):
            if time.perf_counter() - started > WHAT_IF_TIMEOUT_S:
                raise click.ClickException(
                    f"the what-if {answer.id} was not answered in {WHAT_IF_TIMEOUT_S} s"
                )
            await asyncio.sleep(POLL_S)
            raw = await conn.send(lead.request("GET", f"/capacity/what-if/{answer.id}"), (200,))
            answer = msgspec.json.decode(raw, type=WhatIfOut)
            polls += 1
        seconds = time.perf_counter() - started
    polled = recording.new()
    placed = answer.placed
    trial = Trial(
        status=answer.status,
        seconds=round(seconds, 3),
        polls=polls,
        ask_statements=sum(s.origin == REQUEST for s in asked),
        poll_statements=sum(s.origin == REQUEST for s in polled),
        job_statements=sum(s.origin == JOB for s in asked + polled),
        rss_before_bytes=0,
        peak_rss_bytes=0,
        peak_rss_by_process={},
        households_trained=answer.households_trained,
        awaiting=None if placed is None else placed.awaiting,
        placed_before=None if placed is None else placed.placed_before,
        placed_after=None if placed is None else placed.placed_after,
    )
    return trial, seconds


def sampled_trial(
    runner: asyncio.Runner, port: int, lead: Target, body: bytes, recording: Recording
) -> Trial:
    """A what-if through the service, the RSS of the server and its children sampled meanwhile."""
    sampler = RssSampler(server_pid(port))
    before, _ = sampler.sample()
    with sampler.running():
        trial, _ = runner.run(ask_what_if(port, lead, body, recording))
    return replace(
        trial,
        rss_before_bytes=before,
        peak_rss_bytes=sampler.peak,
        peak_rss_by_process=sampler.peak_by_process,
    )


def measure_what_if(
    runner: asyncio.Runner, settings: Settings, size: tuple[int, int, int], region: str, scratch: Path
) -> WhatIfFigures:
    asked = WhatIfCreate(training=TrainingChange(region=region, level=LEVEL))
    body = msgspec.json.encode(asked)
    with bench_database(settings, runner) as db, Recording.of(scratch / "sql-what-if") as recording:
        beds, households, youth, token = runner.run(seed_for_what_if(db, *size))
        floor = runner.run(what_if_floor(db, asked))
        with serving(APP_FACTORY, db, recording.env) as port:
            runner.run(until_started(db))
            lead = Target("lead", port, API_PREFIX, token)
            first = sampled_trial(runner, port, lead, body, recording)
            again = sampled_trial(runner, port, lead, body, recording)
    return WhatIfFigures(beds, households, beds + households, youth, region, first, again, floor)


# --- The run ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    scales: tuple[int, ...]
    runs: int
    days: int
    what_if: bool
    beds: int
    households: int
    youth: int
    region: str


def run_capacity_bench(settings: Settings, options: Options) -> CapacityBenchResult:
    with contextlib.ExitStack() as stack:
        runner = stack.enter_context(asyncio.Runner(loop_factory=client_loop_factory()))
        if settings.redis_url:
            runner.run(refuse_busy_queue(settings.redis_url))
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="placement-capacity-")))
        scales = [
            measure_scale(runner, settings, scale, options.runs, options.days, scratch)
            for scale in options.scales
        ]
        size = (options.beds, options.households, options.youth)
        found = measure_what_if(runner, settings, size, options.region, scratch) if options.what_if else None
    return CapacityBenchResult(options.runs, scales, found)


# --- The table --------------------------------------------------------------------------------


def _table(title: str, heads: list[str], rows: list[tuple[str, list[str]]]) -> list[str]:
    width = max(14, *(len(h) for h in heads))
    lines = [f"{title:<46}" + "".join(f" {h:>{width}}" for h in heads)]
    lines += [f"  {label:<44}" + "".join(f" {v:>{width}}" for v in values) for label, values in rows]
    return lines


def _ms(s: Spread) -> str:
    return f"{s.p50_ms:.1f} / {s.p99_ms:.1f}"


def _read_rows(reads: list[Read]) -> list[tuple[str, list[str]]]:
    return [
        ("service p50 / p99 ms", [_ms(r.service) for r in reads]),
        ("same statements on asyncpg p50 / p99 ms", [_ms(r.asyncpg) for r in reads]),
        ("service / asyncpg at p50", [f"{r.ratio:.2f}x" for r in reads]),
        ("SQL statements per request", [str(r.statements) for r in reads]),
        ("rows, response KiB", [f"{r.rows}, {r.response_bytes / 1024:.0f}" for r in reads]),
    ]


def report_scales(runs: int, scales: list[ScaleFigures]) -> list[str]:
    heads = [f"demo {s.scale}x" for s in scales]
    days = scales[0].backfill.days
    lines = _table(
        "data (the demo's, dated over the past)",
        heads,
        [
            ("safe houses / beds", [f"{s.houses} / {s.beds}" for s in scales]),
            ("households / caregivers", [f"{s.households} / {s.caregivers}" for s in scales]),
            ("completions", [str(s.completions) for s in scales]),
            ("youth / placements", [f"{s.youth} / {s.placements}" for s in scales]),
        ],
    )
    lines += [
        "",
        *_table(f"GET /capacity?by=county ({runs} runs)", heads, _read_rows([s.now for s in scales])),
    ]
    lines += [
        "",
        *_table(
            f"backfill of {days} days (in process)",
            heads,
            [
                ("seconds per day", [f"{s.backfill.seconds_per_day:.3f}" for s in scales]),
                ("seconds in all", [f"{s.backfill.seconds:.1f}" for s in scales]),
                ("SQL statements per day", [f"{s.backfill.statements / days:g}" for s in scales]),
                ("snapshots stored", [str(s.backfill.stored) for s in scales]),
            ],
        ),
    ]
    title = f"GET /capacity/history?by=county, {days} days ({runs} runs)"
    return [*lines, "", *_table(title, heads, _read_rows([s.history for s in scales]))]


def _rss(t: Trial) -> str:
    return f"{t.peak_rss_bytes / MIB:.0f}"


def report_what_if(w: WhatIfFigures) -> list[str]:
    f, trials = w.floor, (w.first, w.again)

    def placed(awaiting: int | None, before: int | None, after: int | None) -> str:
        return f"{before} -> {after} of {awaiting}"

    by_process = "; ".join(
        f"{name}: " + ", ".join(f"{p} = {rss / MIB:.0f}" for p, rss in t.peak_rss_by_process.items())
        for name, t in (("first", w.first), ("again", w.again))
    )
    lines = [
        f"what-if: {w.region}'s homes trained for {LEVEL}; {w.youth} youth awaiting x {w.targets} "
        f"targets ({w.beds} beds, {w.households} households)",
        *_table(
            "",
            ["first ask", "asked again", "floor"],
            [
                (
                    "end to end s (floor: load + solves)",
                    [f"{t.seconds:.2f}" for t in trials] + [f"{f.seconds:.2f}"],
                ),
                ("  load s / solves s", ["", "", f"{f.load_seconds:.2f} / {f.solve_seconds:.2f}"]),
                ("peak RSS MiB, server + children", [_rss(t) for t in trials] + ["-"]),
                (
                    "  server RSS MiB before asking",
                    [f"{t.rss_before_bytes / MIB:.0f}" for t in trials] + ["-"],
                ),
                ("SQL: POST", [str(t.ask_statements) for t in trials] + ["-"]),
                ("SQL: the job, in the server", [str(t.job_statements) for t in trials] + ["-"]),
                ("SQL: the load, in the pool process", ["= floor", "= floor", str(f.load_statements)]),
                (
                    "SQL: the GETs polling / GETs",
                    [f"{t.poll_statements} / {t.polls}" for t in trials] + ["-"],
                ),
                (
                    "households trained",
                    [str(t.households_trained) for t in trials] + [str(f.households_trained)],
                ),
                (
                    "placed before -> after",
                    [placed(t.awaiting, t.placed_before, t.placed_after) for t in trials]
                    + [placed(f.awaiting, f.placed_before, f.placed_after)],
                ),
                ("engine status before / after", ["", "", f"{f.status_before} / {f.status_after}"]),
            ],
        ),
        f"  peak RSS by process, MiB: {by_process}",
    ]
    return lines


def report(result: CapacityBenchResult) -> str:
    lines = [
        "placement bench capacity: each read through the real service (HTTP, as a program lead), "
        "beside the same SQL on bare asyncpg"
    ]
    if result.scales:
        lines += ["", *report_scales(result.runs, result.scales)]
    if result.what_if is not None:
        lines += ["", *report_what_if(result.what_if)]
    return "\n".join(lines)


@click.command("capacity")
@click.option(
    "--scale",
    "scales",
    multiple=True,
    default=(1, 10),
    show_default=True,
    type=click.IntRange(1, 100),
    help="Multiples of the demo's data set to read at; repeat for several.",
)
@click.option("--runs", default=100, show_default=True, type=click.IntRange(1, 10_000), help="Per read.")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 1000), help="Of history.")
@click.option("--what-if/--no-what-if", "ask", default=True, show_default=True, help="Run the what-if.")
@click.option(
    "--beds", default=1500, show_default=True, type=click.IntRange(1, 50_000), help="For the what-if."
)
@click.option("--households", default=8500, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--youth", default=2000, show_default=True, type=click.IntRange(1, 20_000), help="Awaiting.")
@click.option("--region", default="Boston", show_default=True, help="Whose homes the what-if trains.")
@click.option(
    "--redis-db", default=12, show_default=True, type=click.IntRange(0, 15), help="The bench's Redis db."
)
@click.option("--json", "as_json", is_flag=True, help="After the table, the figures as one JSON line.")
def capacity_bench(
    scales: tuple[int, ...],
    runs: int,
    days: int,
    ask: bool,
    beds: int,
    households: int,
    youth: int,
    region: str,
    redis_db: int,
    as_json: bool,
) -> None:
    """Capacity reads at the demo's scale and 10x, and a what-if, through the service beside baselines."""
    settings = Settings.from_env()
    if settings.redis_url:
        settings = replace(settings, redis_url=with_redis_db(settings.redis_url, redis_db))
    options = Options(tuple(dict.fromkeys(scales)), runs, days, ask, beds, households, youth, region)
    with interruptible():
        result = run_capacity_bench(settings, options)
    click.echo(report(result))
    if as_json:
        click.echo(json.dumps(result.as_json()))


if __name__ == "__main__":
    capacity_bench()
