"""A what-if through the served app and its inline worker, beside the same work in this process."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click
import msgspec
from sqlalchemy import event
from sqlalchemy.ext.asyncio import async_sessionmaker

from placement.bench.api import API_PREFIX, bench_database
from placement.bench.capacity.data import lead_token
from placement.bench.capacity.reads import APP_FACTORY, until_started
from placement.bench.households import Captured
from placement.bench.load import Target
from placement.bench.recorded import REQUEST, Recording
from placement.bench.servers import serving
from placement.bench.service import Connection, RssSampler, server_pid
from placement.bench.service_data import seed as seed_service_data
from placement.capacity.schemas import NewBedsChange, TrainingChange, WhatIfCreate, WhatIfOut
from placement.capacity.trials import engine_scenario
from placement.capacity.whatif import what_if
from placement.core.resources import Resources
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from placement.core.vocabulary import LANGUAGES, SERVICES, CareLevel
from placement.matches.loading import load_snapshot
from placement.matching.limits import DEFAULT_EFFORT, DEFAULT_SECONDS
from placement.reference.loader import stable_id

POLL_S = 0.1
WHAT_IF_TIMEOUT_S = 600.0
LEVEL: CareLevel = "trafficking_specialized"
JOB = "try_what_if"
NEW_BEDS_AT = ("Worcester", "Worcester")  # county, municipality: the middle of the state


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
    beds_added: int | None
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
    beds_added: int
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
    scenario: dict[str, Any]
    first: Trial
    again: Trial
    floor: Floor


async def seed_for_what_if(
    settings: Settings, beds: int, households: int, youth: int
) -> tuple[int, int, str]:
    """The service bench's data and a program lead: (beds, households, token)."""
    resources = await Resources.open(settings)
    try:
        data = await seed_service_data(resources, settings, beds, households, youth, caseworkers=25)
        token = await lead_token(resources, settings, resources.clock())
    finally:
        await resources.close()
    return data.beds, data.households, token


def scenario(region: str, new_beds: int) -> WhatIfCreate:
    """The region's homes trained for trafficking-specialised care and, if `new_beds`, a new safe
    house in Worcester taking every youth (ages 11-21, every gender, service and language)."""
    county, town = NEW_BEDS_AT
    house = NewBedsChange(
        municipality_id=stable_id("municipality", county, town),
        beds=new_beds,
        min_age=11,
        max_age=21,
        genders=["female", "male", "nonbinary"],
        services=sorted(SERVICES),
        languages=sorted(LANGUAGES),
    )
    return WhatIfCreate(
        training=TrainingChange(region=region, level=LEVEL), new_beds=house if new_beds else None
    )


async def sign_in_first(port: int, lead: Target) -> None:
    """One request for the token's check (a statement of its own, then cached for a minute), so
    that the first POST counts only its own statements."""
    async with Connection.open(port) as conn:
        await conn.send(lead.request("GET", f"/capacity/what-if/{uuid.uuid4()}"), (404,))


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
        beds_added=answer.changes.beds_added,
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
        beds_added=answer.beds_added,
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
    runner: asyncio.Runner, settings: Settings, size: tuple[int, int, int], asked: WhatIfCreate, scratch: Path
) -> WhatIfFigures:
    body = msgspec.json.encode(asked)
    with bench_database(settings, runner) as db, Recording.of(scratch / "sql-what-if") as recording:
        beds, households, token = runner.run(seed_for_what_if(db, *size))
        floor = runner.run(what_if_floor(db, asked))
        with serving(APP_FACTORY, db, recording.env) as port:
            runner.run(until_started(db))
            lead = Target("lead", port, API_PREFIX, token)
            runner.run(sign_in_first(port, lead))
            first = sampled_trial(runner, port, lead, body, recording)
            again = sampled_trial(runner, port, lead, body, recording)
    scenario = msgspec.to_builtins(asked)
    return WhatIfFigures(beds, households, beds + households, scenario, first, again, floor)
