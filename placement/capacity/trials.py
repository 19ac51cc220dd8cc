"""What-if runs: a program lead's scenario, stored and answered by a job.

Asking checks the scenario against the reference data (regions by name, a municipality for new
beds, the shared codes) and queues a job after the commit. The job has a pool process load today's
data, apply the scenario to its copy, and solve the awaiting youth jointly before and after; only
the counts come back and are stored. Nothing in the real records changes.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity.models import CapacityWhatIf
from placement.capacity.pooled import try_scenario
from placement.capacity.scenarios import NewBeds, Reopening, Scenario, Training
from placement.capacity.schemas import (
    Breakdown,
    NewBedsChange,
    WhatIfCreate,
    WhatIfOut,
    WhatIfRow,
    WhatIfSummary,
)
from placement.capacity.whatif import Placed, WhatIfAnswer
from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import NotFound, Unprocessable
from placement.core.resources import Resources
from placement.core.schemas import Page, check_codes
from placement.core.security.models import User
from placement.core.settings import Settings
from placement.core.uow import after_commit, unit_of_work
from placement.core.vocabulary import LANGUAGES, SERVICES
from placement.matches.queue import TRY_WHAT_IF, enqueue, lease_until
from placement.matches.solving import claim, store, store_failure
from placement.matching.limits import DEFAULT_EFFORT, DEFAULT_SECONDS
from placement.reference.models import Municipality, Region

ENTITY = "capacity_what_if"


async def ask_what_if(
    session: AsyncSession,
    actor: Actor,
    data: WhatIfCreate,
    redis: ArqRedis,
    settings: Settings,
    now: datetime,
) -> uuid.UUID:
    """Store the scenario (checked) and queue its job after the commit; returns its id."""
    await engine_scenario(session, data)
    run = CapacityWhatIf(
        requested_by=actor.user_id,
        scenario=msgspec.to_builtins(data),
        status="queued",
        attempt=1,
        lease_until=lease_until(settings, now, joint_solves=2),
    )
    session.add(run)
    await session.flush()
    audit.record(session, "ask_what_if", ENTITY, run.id)
    run_id = run.id
    after_commit(session, lambda: enqueue(redis, TRY_WHAT_IF, run_id, 1))
    return run_id


async def engine_scenario(session: AsyncSession, data: WhatIfCreate) -> Scenario:
    """The scenario as the engine takes it: regions checked by name, new beds at their
    municipality's centre; 422 for what does not name something real."""
    if data.training is None and data.new_beds is None and data.reopening is None:
        raise Unprocessable("A scenario changes something: give training, new_beds or reopening.")
    regions = set(await session.scalars(select(Region.name)))
    named = [c.region for c in (data.training, data.reopening) if c is not None and c.region is not None]
    unknown = sorted(set(named) - regions)
    if unknown:
        raise Unprocessable(f"No region named {', '.join(unknown)}; known: {', '.join(sorted(regions))}.")
    return Scenario(
        training=None
        if data.training is None
        else Training(region=data.training.region, level=data.training.level),
        new_beds=None if data.new_beds is None else await _new_beds(session, data.new_beds),
        reopening=None if data.reopening is None else Reopening(region=data.reopening.region),
    )


async def _new_beds(session: AsyncSession, change: NewBedsChange) -> NewBeds:
    place = (
        await session.execute(
            select(Municipality.lat, Municipality.lon, Region.name)
            .join(Region, Region.id == Municipality.region_id)
            .where(Municipality.id == change.municipality_id)
        )
    ).one_or_none()
    if place is None:
        raise Unprocessable(f"new_beds.municipality_id: no municipality with id {change.municipality_id}.")
    if change.min_age > change.max_age:
        raise Unprocessable("new_beds: min_age must not exceed max_age.")
    return NewBeds(
        beds=change.beds,
        lat=place.lat,
        lon=place.lon,
        region=place.name,
        min_age=change.min_age,
        max_age=change.max_age,
        genders=tuple(change.genders),
        services=tuple(check_codes("new_beds.services", change.services, SERVICES)),
        languages=tuple(check_codes("new_beds.languages", change.languages, LANGUAGES)),
    )


async def answer_what_if(resources: Resources, run_id: uuid.UUID, attempt: int) -> str:
    """The job: solve one attempt of a scenario and store its answer (or why it failed), if that
    attempt is still the run's (as a match request's: `placement.matches.solving`)."""
    now = resources.clock()
    async with unit_of_work(resources.sessionmaker) as session:
        run = await claim(
            session, CapacityWhatIf, run_id, attempt, lease_until(resources.settings, now, joint_solves=2)
        )
    if run is None:
        return "skipped"
    settings = resources.settings
    try:
        async with resources.sessionmaker() as session:
            scenario = await engine_scenario(session, msgspec.convert(run.scenario, WhatIfCreate))
        answer = await resources.analysis.run(
            try_scenario,
            settings.sqlalchemy_url,
            now,
            settings.readiness_counts_self_reported,
            msgspec.json.encode(scenario),
            DEFAULT_EFFORT,
            DEFAULT_SECONDS,
        )
    except Exception as error:  # the scenario no longer fits the data, or the engine failed
        return await store_failure(resources, CapacityWhatIf, run_id, attempt, error)
    async with unit_of_work(resources.sessionmaker) as session:
        stored = await store(
            session,
            CapacityWhatIf,
            run_id,
            attempt,
            status="answered",
            answer=msgspec.json.decode(answer),
            answered_at=resources.clock(),
            lease_until=None,
        )
    return "answered" if stored else "superseded"


async def read_what_if(session: AsyncSession, run_id: uuid.UUID) -> WhatIfOut:
    run = await session.get(CapacityWhatIf, run_id)
    if run is None:
        raise NotFound(f"No what-if with id {run_id}.")
    answer = None if run.answer is None else msgspec.convert(run.answer, WhatIfAnswer)
    return WhatIfOut(
        id=run.id,
        status=run.status,  # type: ignore[arg-type]
        scenario=msgspec.convert(run.scenario, WhatIfCreate),
        requested_at=run.created_at,
        answered_at=run.answered_at,
        failure_reason=run.failure_reason,
        solved_before=None if answer is None else answer.status_before,
        solved_after=None if answer is None else answer.status_after,
        households_trained=None if answer is None else answer.changes.households_trained,
        households_reopened=None if answer is None else answer.changes.households_reopened,
        beds_added=None if answer is None else answer.changes.beds_added,
        rows=[] if answer is None else _rows(answer),
        placed=None if answer is None else _placed("all", "statewide", answer.placed),
    )


async def list_what_ifs(session: AsyncSession, limit: int, offset: int) -> Page[WhatIfSummary]:
    """The what-ifs asked so far, newest first: every reader's, as any reader reads any of them
    by its id. Their answers are not loaded."""
    total = await session.scalar(select(func.count()).select_from(CapacityWhatIf)) or 0
    runs = await session.execute(
        select(
            CapacityWhatIf.id,
            CapacityWhatIf.status,
            CapacityWhatIf.scenario,
            CapacityWhatIf.created_at,
            CapacityWhatIf.answered_at,
            User.username,
        )
        .join(User, User.id == CapacityWhatIf.requested_by)
        .order_by(CapacityWhatIf.created_at.desc(), CapacityWhatIf.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [
        WhatIfSummary(
            id=run.id,
            status=run.status,
            scenario=msgspec.convert(run.scenario, WhatIfCreate),
            requested_at=run.created_at,
            requested_by=run.username,
            answered_at=run.answered_at,
        )
        for run in runs
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


def _rows(answer: WhatIfAnswer) -> list[WhatIfRow]:
    return [
        *(_placed("urgency", str(u.urgency), u) for u in answer.by_urgency),
        *(_placed("region", r.region, r) for r in answer.by_region),
        *(
            WhatIfRow(
                breakdown="blocking",
                group=t.region,
                blocked_before=t.before,
                blocked_after=t.after,
                youth=t.youth,
            )
            for t in answer.transitions
        ),
    ]


def _placed(breakdown: Breakdown, group: str, placed: Placed) -> WhatIfRow:
    return WhatIfRow(
        breakdown=breakdown,
        group=group,
        awaiting=placed.awaiting,
        placed_before=placed.before,
        placed_after=placed.after,
    )
