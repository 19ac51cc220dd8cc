"""Batch rematch: every open request solved jointly (urgency first, score second, siblings
together), reviewed, then accepted whole or in part: each chosen request's holds all or none, the
others left open.

Open requests are those not yet accepted, cancelled or failed whose youth all still await
placement. The batch weighs each youth's own safety plan and maximum distance; it does not narrow
the kinds of target per request (placement staff review what it proposes). Only one batch is
queued or solving at a time: a unique index says so.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

import msgspec
from arq.connections import ArqRedis
from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import Conflict, NotFound, Unprocessable
from placement.core.resources import Resources
from placement.core.schemas import Page
from placement.core.settings import Settings
from placement.core.uow import after_commit, unit_of_work
from placement.matches.accepting import hold_all
from placement.matches.joint import load_and_solve_jointly
from placement.matches.models import ANSWERED, UNSOLVED, MatchBatch, MatchRequest
from placement.matches.queue import SOLVE_BATCH, enqueue, lease_until
from placement.matches.requests import sites
from placement.matches.schemas import BatchAccept, BatchOut, BatchOutcome, BatchSummary, RequestInBatch, Site
from placement.matches.solving import claim, store_answer, store_failure
from placement.matching.limits import DEFAULT_EFFORT, DEFAULT_SECONDS
from placement.matching.schema import Assignment, Batch
from placement.safehouses.models import Bed
from placement.youth.models import Youth
from placement.youth.service import youth_status

ENTITY = "match_batch"
BATCHED = (*UNSOLVED, *ANSWERED, "expired")


async def start_batch(
    session: AsyncSession, actor: Actor, redis: ArqRedis, settings: Settings, now: datetime
) -> BatchOut:
    """Queue a batch (409 while another is queued or solving); solved after the commit."""
    batch = MatchBatch(
        requested_by=actor.user_id,
        status="queued",
        attempt=1,
        lease_until=lease_until(settings, now, joint_solves=1),
        request_ids=[],
    )
    session.add(batch)
    await session.flush()
    audit.record(session, "start_batch", ENTITY, batch.id)
    batch_id = batch.id
    after_commit(session, lambda: enqueue(redis, SOLVE_BATCH, batch_id, 1))
    return await batch_view(session, batch)


def _still_open() -> ColumnElement[bool]:
    """A request still to place: not closed, and its youth all await placement."""
    waiting = select(Youth.id).where(youth_status() == "awaiting")
    not_waiting = select(func.unnest(MatchRequest.youth_ids).label("y")).except_(waiting)
    return and_(MatchRequest.status.in_(BATCHED), ~select(not_waiting.subquery()).exists())


async def open_requests(session: AsyncSession) -> list[MatchRequest]:
    """The requests a batch solves, oldest first."""
    query = select(MatchRequest).where(_still_open()).order_by(MatchRequest.created_at)
    return list(await session.scalars(query))


async def count_open_requests(session: AsyncSession) -> int:
    """How many requests a batch started now would solve."""
    return await session.scalar(select(func.count()).where(_still_open())) or 0


async def list_batches(session: AsyncSession, limit: int, offset: int) -> Page[BatchSummary]:
    """Batches, newest first: each one's summary columns and counts only, never its stored answer
    or its list of requests (thousands of entries each, for a statewide batch)."""
    rows = (
        (
            await session.execute(
                select(
                    MatchBatch.id,
                    MatchBatch.status,
                    MatchBatch.requested_by,
                    MatchBatch.created_at,
                    MatchBatch.solved_at,
                    MatchBatch.accepted_at,
                    func.coalesce(func.cardinality(MatchBatch.request_ids), 0).label("requests"),
                    func.jsonb_array_length(MatchBatch.result["assignments"]).label("placed"),
                    func.count().over().label("total"),
                )
                .order_by(MatchBatch.created_at.desc(), MatchBatch.id)
                .limit(limit)
                .offset(offset)
            )
        )
        .mappings()
        .all()
    )
    items = [BatchSummary(**{k: v for k, v in row.items() if k != "total"}) for row in rows]
    total = rows[0]["total"] if rows else await session.scalar(select(func.count(MatchBatch.id))) or 0
    return Page(items=items, total=total, limit=limit, offset=offset)


async def solve_batch(resources: Resources, batch_id: uuid.UUID, attempt: int) -> str:
    """Solve one attempt of a batch; returns what became of it."""
    now = resources.clock()
    async with unit_of_work(resources.sessionmaker) as session:
        batch = await claim(
            session, MatchBatch, batch_id, attempt, lease_until(resources.settings, now, joint_solves=1)
        )
        requests = await open_requests(session) if batch is not None else []
    if batch is None:
        return "skipped"
    youth_ids = [y for r in requests for y in r.youth_ids]
    try:
        answer = await resources.background.run(
            load_and_solve_jointly,
            resources.settings.sqlalchemy_url,
            youth_ids,
            now,
            resources.settings.readiness_counts_self_reported,
            DEFAULT_EFFORT,
            DEFAULT_SECONDS,
        )
    except Exception as error:  # the engine or its process failed: say so on the batch
        return await store_failure(resources, MatchBatch, batch_id, attempt, error)
    async with unit_of_work(resources.sessionmaker) as session:
        digest = await store_answer(
            session,
            MatchBatch,
            batch_id,
            attempt,
            answer.instance,
            status="solved",
            request_ids=[r.id for r in requests],
            result=msgspec.json.decode(answer.result),
            engine={"mode": "batch", "effort": DEFAULT_EFFORT, "seconds": DEFAULT_SECONDS},
            solved_at=now,
        )
        if digest is not None:
            audit.record(session, "solve_batch", ENTITY, batch_id, digest=digest, requests=len(requests))
    return "superseded" if digest is None else "stored"


async def visible_batch(session: AsyncSession, batch_id: uuid.UUID, *, lock: bool = False) -> MatchBatch:
    query = select(MatchBatch).where(MatchBatch.id == batch_id)
    batch = await session.scalar(query.with_for_update() if lock else query)
    if batch is None:
        raise NotFound(f"No batch with id {batch_id}.")
    return batch


async def read_batch(session: AsyncSession, batch_id: uuid.UUID) -> BatchOut:
    batch = await visible_batch(session, batch_id)
    audit.record(session, "read_batch", ENTITY, batch_id)
    return await batch_view(session, batch)


async def accept_batch(
    session: AsyncSession,
    actor: Actor,
    batch_id: uuid.UUID,
    chosen: BatchAccept,
    settings: Settings,
    now: datetime,
) -> BatchOut:
    """Hold the chosen requests' proposals (every placed one when none are named) that can still
    be held; report each one that cannot. A batch is accepted once."""
    batch = await visible_batch(session, batch_id, lock=True)
    if batch.status != "solved":
        raise Conflict(f"Only a solved batch can be accepted; this one is {batch.status}.")
    result = msgspec.convert(batch.result, Batch)
    by_youth = {a.youth_id: a for a in result.assignments}
    requests = {
        r.id: r
        for r in await session.scalars(
            select(MatchRequest).where(MatchRequest.id.in_(batch.request_ids)).with_for_update()
        )
    }
    placed = {
        request_id: [by_youth[str(y)] for y in requests[request_id].youth_ids if str(y) in by_youth]
        for request_id in batch.request_ids
    }
    outcome = [
        await _accept_one(session, actor, requests[request_id], placed[request_id], settings, now)
        for request_id in _chosen_requests(chosen, placed)
    ]
    batch.status, batch.accepted_at = "accepted", now
    batch.outcome = [msgspec.to_builtins(o) for o in outcome]
    await session.flush()
    audit.record(
        session, "accept_batch", ENTITY, batch_id, chosen=len(outcome), held=sum(o.held for o in outcome)
    )
    return await batch_view(session, batch)


def _chosen_requests(chosen: BatchAccept, placed: dict[uuid.UUID, list[Assignment]]) -> list[uuid.UUID]:
    """The requests to hold, in the batch's order: those named (each one the batch places), or all
    it places."""
    if chosen.request_ids is None:
        return [request_id for request_id, assignments in placed.items() if assignments]
    named = set(chosen.request_ids)
    if unknown := [str(r) for r in chosen.request_ids if not placed.get(r)]:
        raise Unprocessable(
            f"This batch proposes nothing for request(s) {', '.join(unknown)}; choose among those it places."
        )
    return [request_id for request_id in placed if request_id in named]


async def _accept_one(
    session: AsyncSession,
    actor: Actor,
    request: MatchRequest,
    placed: list[Assignment],
    settings: Settings,
    now: datetime,
) -> BatchOutcome:
    if request.status not in BATCHED:
        return BatchOutcome(
            request_id=request.id, held=False, placement_ids=[], reason=f"the request is {request.status}"
        )
    try:
        held = await hold_all(session, actor, placed, settings, now)
    except (Conflict, Unprocessable) as refused:
        return BatchOutcome(request_id=request.id, held=False, placement_ids=[], reason=refused.detail)
    request.status, request.placement_ids, request.closed_at = "accepted", held, now
    request.close_note = "accepted from a batch"
    audit.record(session, "accept_proposal", "match_request", request.id, placements=",".join(map(str, held)))
    return BatchOutcome(request_id=request.id, held=True, placement_ids=held, reason=None)


async def batch_view(session: AsyncSession, batch: MatchBatch) -> BatchOut:
    result = msgspec.convert(batch.result, Batch) if batch.result is not None else None
    assignments = result.assignments if result is not None else ()
    by_youth = {a.youth_id: a for a in assignments}
    found = await session.scalars(select(MatchRequest).where(MatchRequest.id.in_(batch.request_ids)))
    position = {request_id: i for i, request_id in enumerate(batch.request_ids)}
    requests = sorted(found, key=lambda r: position[r.id])  # the batch's order: oldest request first
    placed = [uuid.UUID(a.youth_id) for a in assignments]
    urgency = await session.scalars(select(Youth.urgency).where(Youth.id.in_(placed)))
    site_of = await _sites_of_targets(session, [a.target_id for a in assignments])
    named = await sites(session, set(site_of.values()))
    return BatchOut(
        id=batch.id,
        status=batch.status,  # type: ignore[arg-type]
        requested_by=batch.requested_by,
        created_at=batch.created_at,
        solved_at=batch.solved_at,
        failure_reason=batch.failure_reason,
        solve_status=result.status if result else None,
        placed=len(assignments),
        placed_by_urgency={str(k): v for k, v in sorted(Counter(urgency).items())},
        unplaced=len(result.unplaced) if result else 0,
        objective=result.objective if result else None,
        bound=result.bound if result else None,
        gap=result.gap if result else None,
        seconds=result.seconds if result else None,
        requests=[_request_in_batch(r, by_youth, site_of, named) for r in requests],
        outcome=msgspec.convert(batch.outcome or [], list[BatchOutcome]),
        engine=batch.engine,
        instance_digest=batch.instance_digest,
    )


async def _sites_of_targets(session: AsyncSession, target_ids: list[str]) -> dict[str, str]:
    """Each target's site: a bed's safe house, or the household itself."""
    beds = await session.execute(
        select(Bed.id, Bed.safe_house_id).where(Bed.id.in_([uuid.UUID(t) for t in target_ids]))
    )
    houses = {str(row.id): str(row.safe_house_id) for row in beds}
    return {t: houses.get(t, t) for t in target_ids}


def _request_in_batch(
    request: MatchRequest,
    by_youth: dict[str, Assignment],
    site_of: dict[str, str],
    named: dict[str, Site],
) -> RequestInBatch:
    placed = tuple(by_youth[str(y)] for y in request.youth_ids if str(y) in by_youth)
    return RequestInBatch(
        request_id=request.id,
        youth_ids=request.youth_ids,
        site=named[site_of[placed[0].target_id]] if placed else None,
        assignments=placed,
        unplaced=[y for y in request.youth_ids if str(y) not in by_youth],
    )
