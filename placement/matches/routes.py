"""HTTP routes for match requests and batch rematch."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Request, Router, get, post
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor
from placement.core.idempotency import IdempotentCreate
from placement.core.resources import Resources
from placement.core.schemas import Limit, Offset, Page
from placement.matches import accepting, batches, explaining, requests
from placement.matches.access import ASKERS, BATCH_RUNNERS
from placement.matches.schemas import (
    AcceptProposal,
    BatchAccept,
    BatchOut,
    BatchStart,
    BatchSummary,
    CancelRequest,
    MatchRequestCreate,
    MatchRequestOut,
    MatchRequestSummary,
    WhyNotOut,
)

MAX_WAIT_SECONDS = 10
Wait = Annotated[
    float,
    QueryParameter(
        name="wait",
        ge=0,
        le=MAX_WAIT_SECONDS,
        description="Hold the answer up to this many seconds until the request is solved",
    ),
]
YouthId = Annotated[
    uuid.UUID, QueryParameter(name="youth_id", description="The youth whose match requests to list")
]


@post("/match-requests", opt=ASKERS, status_code=202)
async def request_match(
    data: MatchRequestCreate,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    idempotent: IdempotentCreate,
) -> MatchRequestOut:
    """Ask for placements for one youth or one sibling group: solved by a job; read the answer at
    `GET /match-requests/{id}` (with `?wait=` to wait for it)."""
    now = resources.clock()
    return await idempotent(
        data,
        lambda: requests.request_match(session, actor, data, resources.redis, resources.settings, now),
        lambda created: requests.read_request(session, actor, created, resources.settings, now),
    )


@get("/match-requests", opt=ASKERS)
async def list_match_requests(
    youth_id: YouthId,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[MatchRequestSummary]:
    """A youth's match requests, past and present, newest first: when each was asked and how it
    stands. A caseworker's list holds only requests whose youth are all on their caseload (none,
    for a youth off it, as `GET /placements?youth_id=` answers)."""
    now, settings = resources.clock(), resources.settings
    return await requests.list_requests(session, actor, youth_id, limit, offset, settings, now)


@get("/match-requests/{id:uuid}", opt=ASKERS)
async def read_match_request(
    request: Request[Any, Any, Any],
    id: uuid.UUID,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    wait: Wait = 0,
) -> MatchRequestOut:
    """The request's status and, once solved, its ranked proposals with each score's terms."""
    if wait > 0:
        async with request.scope["state"]["turn"].aside():
            await requests.wait_for_answer(resources.engine, resources.redis, actor, id, wait)
    return await requests.read_request(session, actor, id, resources.settings, resources.clock())


@get("/match-requests/{id:uuid}/why-not/{target_id:uuid}", opt=ASKERS)
async def explain_target(
    id: uuid.UUID, target_id: uuid.UUID, session: AsyncSession, actor: Actor, resources: Resources
) -> WhyNotOut:
    """Why a bed or household was not proposed: the rules it fails, or its score and rank, on the
    data the request was solved on."""
    return await explaining.explain_target(
        session,
        actor,
        id,
        target_id,
        resources.offload,
        resources.clock(),
        resources.settings.readiness_counts_self_reported,
    )


@post("/match-requests/{id:uuid}/accept", opt=ASKERS, status_code=200)
async def accept_proposal(
    id: uuid.UUID,
    data: AcceptProposal,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    idempotent: IdempotentCreate,
) -> MatchRequestOut:
    """Hold every member's bed or place of one proposal, in one transaction; 409 names what
    changed and which other proposals are still valid."""
    now, settings = resources.clock(), resources.settings
    return await idempotent(
        data,
        lambda: accepting.accept_proposal(session, actor, id, data, resources.offload, settings, now),
        lambda created: requests.read_request(session, actor, created, settings, now),
    )


@post("/match-requests/{id:uuid}/cancel", opt=ASKERS, status_code=200)
async def cancel_match_request(
    id: uuid.UUID, data: CancelRequest, session: AsyncSession, actor: Actor, resources: Resources
) -> MatchRequestOut:
    return await requests.cancel_request(session, actor, id, data, resources.settings, resources.clock())


@post("/matching/batch", opt=BATCH_RUNNERS, status_code=202)
async def start_batch(
    session: AsyncSession, actor: Actor, resources: Resources, idempotent: IdempotentCreate
) -> BatchOut:
    """Solve every open request jointly (one batch at a time): urgency first, score second."""
    settings = resources.settings
    return await idempotent(
        BatchStart(),
        lambda: batches.start_batch(session, actor, resources.redis, settings, resources.clock()),
        lambda created: batches.read_batch(session, created),
    )


@get("/matching/batch", opt=BATCH_RUNNERS)
async def list_batches(session: AsyncSession, limit: Limit = 50, offset: Offset = 0) -> Page[BatchSummary]:
    """Batches, newest first: how each stands and how many youth it placed."""
    return await batches.list_batches(session, limit, offset)


@get("/matching/batch/{id:uuid}", opt=BATCH_RUNNERS)
async def read_batch(id: uuid.UUID, session: AsyncSession) -> BatchOut:
    """The batch: how it ended, placed youth by urgency, objective, proven bound and gap, and what
    it proposes for each request."""
    return await batches.read_batch(session, id)


@post("/matching/batch/{id:uuid}/accept", opt=BATCH_RUNNERS, status_code=200)
async def accept_batch(
    id: uuid.UUID,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    data: BatchAccept | None = None,
) -> BatchOut:
    """Hold the proposals of the chosen requests (no body: every request the batch places) that are
    still valid; report each one that is not. The requests not chosen stay open."""
    chosen = data or BatchAccept()
    return await batches.accept_batch(session, actor, id, chosen, resources.settings, resources.clock())


router = Router(
    path="/",
    route_handlers=[
        request_match,
        list_match_requests,
        read_match_request,
        explain_target,
        accept_proposal,
        cancel_match_request,
        start_batch,
        list_batches,
        read_batch,
        accept_batch,
    ],
    tags=["matching"],
)
