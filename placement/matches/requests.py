"""Match requests: asked for, read with their proposals (waiting for the solve if asked), listed
by youth, cancelled.

Asking stores the request and, after the commit, enqueues the job that solves it (ids only). A
new request for a youth cancels that youth's open one: the newer question replaces the older.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta

import msgspec
from arq.connections import ArqRedis
from redis.asyncio import Redis
from sqlalchemy import func, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import load_only

from caregivers.households.models import Household
from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import Conflict, NotFound, Unprocessable
from placement.core.schemas import Page
from placement.core.security.policy import may_see_locations
from placement.core.settings import Settings
from placement.core.uow import after_commit
from placement.matches.access import ENTITY, on_caseload, visible_request, visible_requests
from placement.matches.models import ANSWERED, UNSOLVED, MatchRequest
from placement.matches.queue import SOLVE_REQUEST, answered_channel, enqueue, lease_until
from placement.matches.schemas import (
    CancelRequest,
    MatchRequestCreate,
    MatchRequestOut,
    MatchRequestSummary,
    ProposalOut,
    Site,
)
from placement.matching.schema import Ranking
from placement.reference.models import Municipality
from placement.safehouses.models import SafeHouse
from placement.youth.models import Youth
from placement.youth.service import caseload_of, youth_status

OPEN = (*UNSOLVED, *ANSWERED)


async def request_match(
    session: AsyncSession,
    actor: Actor,
    data: MatchRequestCreate,
    redis: ArqRedis,
    settings: Settings,
    now: datetime,
) -> MatchRequestOut:
    """Store the request (its youth locked, all awaiting placement) and solve it after the commit."""
    youth_ids = list(dict.fromkeys(data.youth_ids))
    await _check_members(session, actor, youth_ids)
    request_id = uuid.uuid4()
    await _supersede(session, youth_ids, request_id, now)
    request = MatchRequest(
        id=request_id,
        youth_ids=youth_ids,
        requested_by=actor.user_id,
        status="queued",
        kinds=list(dict.fromkeys(data.kinds)),
        max_distance_km=data.max_distance_km,
        proposal_limit=data.proposals,
        attempt=1,
        lease_until=lease_until(settings, now),
        placement_ids=[],
    )
    session.add(request)
    await session.flush()
    audit.record(session, "request_match", ENTITY, request_id, youth_ids=",".join(map(str, youth_ids)))
    after_commit(session, lambda: enqueue(redis, SOLVE_REQUEST, request_id, 1))
    return await request_view(session, request, actor, settings, now)


async def _check_members(session: AsyncSession, actor: Actor, youth_ids: list[uuid.UUID]) -> None:
    """Lock the youth: each visible to the actor and awaiting placement; several only as one
    sibling group."""
    query = select(Youth.id, Youth.sibling_group, youth_status().label("status")).where(
        Youth.id.in_(youth_ids)
    )
    if (scope := caseload_of(actor)) is not None:
        query = query.where(scope)
    found = {row.id: row for row in await session.execute(query.with_for_update(of=Youth))}
    for youth_id in youth_ids:
        if youth_id not in found:
            raise NotFound(f"No youth with id {youth_id} on your caseload.")
        if (status := found[youth_id].status) != "awaiting":
            raise Conflict(f"Youth {youth_id} is {status}: only youth awaiting placement can be matched.")
    groups = {row.sibling_group for row in found.values()}
    if len(youth_ids) > 1 and (len(groups) != 1 or None in groups):
        raise Unprocessable(
            "youth_ids: several youth are matched together only as one sibling group "
            "(they must share a sibling_group)."
        )


async def _supersede(
    session: AsyncSession, youth_ids: list[uuid.UUID], request_id: uuid.UUID, now: datetime
) -> None:
    """Cancel the open requests of these youth: the new one replaces them."""
    replaced = await session.scalars(
        update(MatchRequest)
        .where(MatchRequest.status.in_(OPEN), MatchRequest.youth_ids.overlap(youth_ids))
        .values(status="cancelled", closed_at=now, close_note=f"replaced by match request {request_id}")
        .returning(MatchRequest.id)
    )
    for old in replaced:
        audit.record(session, "cancel_match_request", ENTITY, old, replaced_by=str(request_id))


def status_on(request: MatchRequest, now: datetime, settings: Settings) -> str:
    """The request's status now: an answer older than the setting reads as expired."""
    expires = expires_at(request, settings)
    return "expired" if expires is not None and expires <= now else request.status


def expires_at(request: MatchRequest, settings: Settings) -> datetime | None:
    if request.status not in ANSWERED or request.solved_at is None:
        return None
    return request.solved_at + timedelta(minutes=settings.match_valid_minutes)


async def read_request(
    session: AsyncSession, actor: Actor, request_id: uuid.UUID, settings: Settings, now: datetime
) -> MatchRequestOut:
    """The request and its proposals, as an audited read."""
    request = await visible_request(session, actor, request_id)
    audit.record(session, "read_match_request", ENTITY, request_id)
    return await request_view(session, request, actor, settings, now)


SUMMARY_COLUMNS = (
    MatchRequest.youth_ids,
    MatchRequest.status,
    MatchRequest.requested_by,
    MatchRequest.created_at,
    MatchRequest.solved_at,
    MatchRequest.closed_at,
    MatchRequest.accepted_rank,
)
"""What a summary reads: not the stored answers, which are the bulk of a request's row."""


async def list_requests(
    session: AsyncSession,
    actor: Actor,
    youth_id: uuid.UUID,
    limit: int,
    offset: int,
    settings: Settings,
    now: datetime,
) -> Page[MatchRequestSummary]:
    """The requests that include this youth, newest first, of those this actor may see (none for
    a youth off a caseworker's caseload), as an audited read."""
    query = visible_requests(actor).where(MatchRequest.youth_ids.contains([youth_id]))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = await session.scalars(
        query.options(load_only(*SUMMARY_COLUMNS, raiseload=True))
        .order_by(MatchRequest.created_at.desc(), MatchRequest.id)
        .limit(limit)
        .offset(offset)
    )
    items = [_summary(request, settings, now) for request in found]
    ids = ",".join(str(r.id) for r in items)
    audit.record(session, "list_match_requests", ENTITY, None, youth_id=str(youth_id), ids=ids)
    return Page(items=items, total=total, limit=limit, offset=offset)


def _summary(request: MatchRequest, settings: Settings, now: datetime) -> MatchRequestSummary:
    return MatchRequestSummary(
        id=request.id,
        status=status_on(request, now, settings),  # type: ignore[arg-type]
        youth_ids=request.youth_ids,
        requested_by=request.requested_by,
        created_at=request.created_at,
        solved_at=request.solved_at,
        expires_at=expires_at(request, settings),
        closed_at=request.closed_at,
        accepted_rank=request.accepted_rank,
    )


async def wait_for_answer(
    engine: AsyncEngine, redis: Redis, actor: Actor, request_id: uuid.UUID, seconds: float
) -> None:
    """Return once the request is no longer queued or solving, or after `seconds`, holding no
    database connection meanwhile (the answer is announced on Redis)."""
    async with redis.pubsub() as pubsub:
        await pubsub.subscribe(answered_channel(request_id))
        if not await _unsolved(engine, actor, request_id):
            return
        try:
            async with asyncio.timeout(seconds):
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        return
        except TimeoutError:
            return


async def _unsolved(engine: AsyncEngine, actor: Actor, request_id: uuid.UUID) -> bool:
    """Whether a request this actor may see is still queued or solving (its own short read)."""
    query = select(MatchRequest.status).where(MatchRequest.id == request_id)
    scope = on_caseload(actor)
    async with engine.connect() as connection:
        status = await connection.scalar(query if scope is None else query.where(scope))
    return status in UNSOLVED


async def cancel_request(
    session: AsyncSession,
    actor: Actor,
    request_id: uuid.UUID,
    data: CancelRequest,
    settings: Settings,
    now: datetime,
) -> MatchRequestOut:
    request = await visible_request(session, actor, request_id, lock=True)
    if request.status not in OPEN:
        raise Conflict(f"Only an open request can be cancelled; this one is {request.status}.")
    request.status, request.closed_at, request.close_note = "cancelled", now, data.note or None
    await session.flush()
    audit.record(session, "cancel_match_request", ENTITY, request_id)
    return await request_view(session, request, actor, settings, now)


async def request_view(
    session: AsyncSession, request: MatchRequest, actor: Actor, settings: Settings, now: datetime
) -> MatchRequestOut:
    """The request as this actor may see it: distances in bands unless they may see positions."""
    stored = request.result if may_see_locations(actor) else request.banded_result
    ranking = msgspec.convert(stored, Ranking) if stored is not None else None
    proposals = list(ranking.proposals) if ranking is not None else []
    named = await sites(session, {p.site_id for p in proposals})
    return MatchRequestOut(
        id=request.id,
        status=status_on(request, now, settings),  # type: ignore[arg-type]
        youth_ids=request.youth_ids,
        kinds=request.kinds,
        max_distance_km=request.max_distance_km,
        proposal_limit=request.proposal_limit,
        requested_by=request.requested_by,
        created_at=request.created_at,
        solved_at=request.solved_at,
        expires_at=expires_at(request, settings),
        proposals=[
            ProposalOut(rank=p.rank, site=named[p.site_id], score=p.score, assignments=p.assignments)
            for p in proposals
        ],
        no_match=list(ranking.no_match) if ranking is not None else [],
        failure_reason=request.failure_reason,
        accepted_rank=request.accepted_rank,
        placement_ids=request.placement_ids,
        weights=request.weights,
        engine=request.engine,
        instance_digest=request.instance_digest,
    )


async def sites(session: AsyncSession, site_ids: Collection[str]) -> dict[str, Site]:
    """Safe houses and households by id, with their names and towns (never an address)."""
    if not site_ids:
        return {}
    ids = [uuid.UUID(s) for s in site_ids]
    houses = (
        select(
            SafeHouse.id, literal("safe_house").label("kind"), SafeHouse.name, Municipality.name.label("town")
        )
        .join(Municipality, Municipality.id == SafeHouse.municipality_id)
        .where(SafeHouse.id.in_(ids))
    )
    homes = (
        select(
            Household.id, literal("household").label("kind"), Household.name, Municipality.name.label("town")
        )
        .join(Municipality, Municipality.id == Household.municipality_id)
        .where(Household.id.in_(ids))
    )
    rows = await session.execute(union_all(houses, homes))
    return {str(row.id): Site(id=row.id, kind=row.kind, name=row.name, municipality=row.town) for row in rows}
