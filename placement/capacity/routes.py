"""HTTP routes for the capacity figures."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated

from litestar import Response, Router, get, patch, post
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity import coverage, history, needs, targets, trials
from placement.capacity.access import READERS, TARGET_SETTERS
from placement.capacity.counts import count_capacity, reading_now
from placement.capacity.schemas import (
    CapacityHistory,
    CapacityOut,
    Every,
    Grouping,
    TargetCreate,
    TargetList,
    TargetOut,
    TargetUpdate,
    TrainingCoverageOut,
    UnmetNeedOut,
    WhatIfCreate,
    WhatIfOut,
    WhatIfSummary,
)
from placement.core.audit import Actor
from placement.core.idempotency import IdempotentCreate
from placement.core.resources import Resources
from placement.core.schemas import Limit, Offset, Page
from placement.core.tables import TABULAR, TableAnswer

DEFAULT_DAYS = 30
FirstDay = Annotated[date | None, QueryParameter(name="from", description="First day (default: 30 days ago)")]
LastDay = Annotated[date | None, QueryParameter(name="to", description="Last day (default: today)")]
By = Annotated[Grouping, QueryParameter(name="by", description="Group the counts by region, county or kind")]


@get("/capacity", opt=READERS, **TABULAR)
async def capacity_now(
    session: AsyncSession, resources: Resources, answer: TableAnswer, by: By = "region"
) -> Response[CapacityOut]:
    """Beds by status, household places, ready homes and youth, per region, county or kind of
    target, with the statewide totals."""
    return answer(await count_capacity(session, by, reading_now(resources)), f"capacity-by-{by}")


@get("/capacity/history", opt=READERS, **TABULAR)
async def capacity_history(
    session: AsyncSession,
    resources: Resources,
    answer: TableAnswer,
    by: By = "region",
    first: FirstDay = None,
    last: LastDay = None,
    every: Annotated[Every, QueryParameter(name="every", description="A row per day, or per week")] = "day",
) -> Response[CapacityHistory]:
    """The daily counts of a span of days, or each week's last day; rows a worker rebuilt after the
    fact say `source: backfill`."""
    last = last or resources.clock().date()
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    series = await history.read_history(session, by, first, last, every, resources.settings.zone)
    return answer(series, f"capacity-history-by-{by}-{first}-{last}")


@get("/capacity/targets", opt=READERS, **TABULAR)
async def list_targets(
    session: AsyncSession, resources: Resources, answer: TableAnswer
) -> Response[TargetList]:
    """The program's targets, each with its current value, its 30-day trend and whether it is on
    track to be reached by its due date."""
    found = await targets.list_targets(session, reading_now(resources), resources.settings.zone)
    return answer(found, "capacity-targets")


@get("/capacity/targets/{id:uuid}", opt=READERS)
async def read_target(id: uuid.UUID, session: AsyncSession, resources: Resources) -> TargetOut:
    return await _target(session, resources, id)


@post("/capacity/targets", opt=TARGET_SETTERS)
async def create_target(
    data: TargetCreate,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    idempotent: IdempotentCreate,
) -> TargetOut:
    """Set a target: a metric, a scope (the state, a region or a county), a value and a due date."""
    return await idempotent(
        data,
        lambda: _created(session, resources, actor, data),
        lambda created: _target(session, resources, created),
    )


@patch("/capacity/targets/{id:uuid}", opt=TARGET_SETTERS)
async def update_target(
    id: uuid.UUID, data: TargetUpdate, session: AsyncSession, resources: Resources
) -> TargetOut:
    """Change a target's title, value, due date or note (its metric and place stay: set a new one)."""
    await targets.update_target(session, id, data)
    return await _target(session, resources, id)


async def _created(
    session: AsyncSession, resources: Resources, actor: Actor, data: TargetCreate
) -> TargetOut:
    return await _target(session, resources, await targets.create_target(session, actor, data))


async def _target(session: AsyncSession, resources: Resources, target_id: uuid.UUID) -> TargetOut:
    return await targets.read_target(session, reading_now(resources), resources.settings.zone, target_id)


@get("/capacity/unmet-need", opt=READERS, **TABULAR)
async def unmet_need(
    session: AsyncSession, resources: Resources, answer: TableAnswer
) -> Response[UnmetNeedOut]:
    """For the youth awaiting placement now, by region: how many have no feasible target, and for
    those, the rule that blocks most of their candidates. Counts only."""
    return answer(await needs.unmet_need_now(session, resources), "unmet-need")


@get("/capacity/training", opt=READERS, **TABULAR)
async def training_coverage(
    session: AsyncSession, resources: Resources, answer: TableAnswer
) -> Response[TrainingCoverageOut]:
    """By region: households, caregivers, how many finished each caregiver series, homes ready per
    level of care, and completions that lapse within 90 days."""
    return answer(await coverage.training_coverage(session, reading_now(resources)), "training-coverage")


@post("/capacity/what-if", opt=READERS, status_code=202)
async def ask_what_if(
    data: WhatIfCreate,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    idempotent: IdempotentCreate,
) -> WhatIfOut:
    """Ask what a scenario would change (train a region's homes, add beds, reopen paused homes):
    a job solves the awaiting youth before and after on a copy of today's data; read the answer
    at `GET /capacity/what-if/{id}`. No record changes."""
    return await idempotent(
        data,
        lambda: _asked(session, actor, data, resources),
        lambda created: trials.read_what_if(session, created),
    )


@get("/capacity/what-if", opt=READERS)
async def list_what_ifs(session: AsyncSession, limit: Limit = 50, offset: Offset = 0) -> Page[WhatIfSummary]:
    """The what-ifs asked so far (by anyone who reads capacity), newest first: when, by whom, what
    each changes and whether it is answered yet."""
    return await trials.list_what_ifs(session, limit, offset)


@get("/capacity/what-if/{id:uuid}", opt=READERS, **TABULAR)
async def read_what_if(id: uuid.UUID, session: AsyncSession, answer: TableAnswer) -> Response[WhatIfOut]:
    """A scenario and, once answered, placed youth before and after (overall, by urgency and by
    region) and what blocked the youth with no feasible target before and after it."""
    return answer(await trials.read_what_if(session, id), f"what-if-{id}")


async def _asked(session: AsyncSession, actor: Actor, data: WhatIfCreate, resources: Resources) -> WhatIfOut:
    asked = await trials.ask_what_if(
        session, actor, data, resources.redis, resources.settings, resources.clock()
    )
    return await trials.read_what_if(session, asked)


router = Router(
    path="/",
    route_handlers=[
        capacity_now,
        capacity_history,
        list_targets,
        read_target,
        create_target,
        update_target,
        unmet_need,
        training_coverage,
        ask_what_if,
        list_what_ifs,
        read_what_if,
    ],
    tags=["capacity"],
)
