"""Solving match requests and batches in the worker: claim, load, solve off the event loop, store.

A job carries ids only (and the attempt it was enqueued for). It claims its attempt, loads the
instance in one snapshot, has a pool process solve it, and stores the answer only if its attempt
is still the one solving: a solve the sweep has replaced, or a request cancelled meanwhile, stores
nothing, so solving twice stores one answer.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import uuid
import zlib
from datetime import datetime, timedelta
from typing import Any, TypeVar

import msgspec
from sqlalchemy import or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity.models import CapacityWhatIf
from placement.core import audit
from placement.core.resources import Resources
from placement.core.uow import after_commit, unit_of_work
from placement.matches import engine_calls
from placement.matches.loading import Candidates, load_snapshot
from placement.matches.models import ANSWERED, UNSOLVED, MatchBatch, MatchInstance, MatchRequest
from placement.matches.queue import (
    SOLVE_BATCH,
    SOLVE_REQUEST,
    TRY_WHAT_IF,
    announce_answer,
    enqueue,
    lease_until,
)
from placement.matching.schema import Instance

log = logging.getLogger("placement.matches")
Solvable = TypeVar("Solvable", MatchRequest, MatchBatch, CapacityWhatIf)


async def claim(
    session: AsyncSession, model: type[Solvable], row_id: uuid.UUID, attempt: int, until: datetime
) -> Solvable | None:
    """Mark this attempt solving, if it is still the request's (or batch's) current one."""
    claimed: Solvable | None = await session.scalar(
        update(model)
        .where(model.id == row_id, model.attempt == attempt, model.status.in_(UNSOLVED))
        .values(status="solving", lease_until=until)
        .returning(model)
    )
    return claimed


Packed = tuple[str, bytes]
"""An instance as `match_instances` keeps it: the SHA-256 of its JSON, and that JSON compressed."""


def pack(body: bytes) -> Packed:
    return hashlib.sha256(body).hexdigest(), zlib.compress(body, 6)


async def keep_instance(session: AsyncSession, packed: Packed) -> str:
    """Store the packed instance under its digest (once); returns the digest."""
    digest, compressed = packed
    await session.execute(
        insert(MatchInstance).values(digest=digest, body=compressed).on_conflict_do_nothing()
    )
    return digest


async def solve_request(resources: Resources, request_id: uuid.UUID, attempt: int) -> str:
    """Solve one attempt of a match request; returns what became of it."""
    now = resources.clock()
    async with unit_of_work(resources.sessionmaker) as session:
        request = await claim(
            session, MatchRequest, request_id, attempt, lease_until(resources.settings, now)
        )
    if request is None:
        return "skipped"
    try:
        instance, body, exact, banded = await _rank(resources, request, now, narrowed=True)
        if not exact["proposals"]:  # the reasons of a no-match count every candidate
            instance, body, exact, banded = await _rank(resources, request, now, narrowed=False)
        packed = pack(body)
    except Exception as error:  # the engine or its process failed: say so on the request
        return await store_failure(resources, MatchRequest, request_id, attempt, error)
    async with unit_of_work(resources.sessionmaker) as session:
        digest = await store_answer(
            session,
            MatchRequest,
            request_id,
            attempt,
            packed,
            status="proposed" if exact["proposals"] else "no_match",
            result=exact,
            banded_result=banded,
            weights=msgspec.to_builtins(instance.weights),
            engine={"mode": "rank", "limit": request.proposal_limit},
            solved_at=now,
        )
        if digest is not None:
            audit.record(session, "solve_match_request", "match_request", request_id, digest=digest)
            after_commit(session, lambda: announce_answer(resources.redis, request_id))
    return "superseded" if digest is None else "stored"


async def _rank(
    resources: Resources, request: MatchRequest, now: datetime, *, narrowed: bool
) -> tuple[Instance, bytes, dict[str, Any], dict[str, Any]]:
    """The request's instance (as JSON) and its ranking, exact and banded."""
    instance = await load_snapshot(
        resources.sessionmaker,
        request.youth_ids,
        now,
        resources.settings.readiness_counts_self_reported,
        candidates=request_candidates(request, narrowed=narrowed),
        max_distance_km=request.max_distance_km,
    )
    body = msgspec.json.encode(instance)
    exact, banded = await resources.offload.run(engine_calls.rank_both_ways, body, request.proposal_limit)
    return instance, body, msgspec.json.decode(exact), msgspec.json.decode(banded)


def request_candidates(request: MatchRequest, *, narrowed: bool) -> Candidates:
    return Candidates(kinds=request.kinds, narrowed=narrowed)


async def store_answer(
    session: AsyncSession,
    model: type[Solvable],
    row_id: uuid.UUID,
    attempt: int,
    packed: Packed,
    **values: Any,
) -> str | None:
    """Keep the instance and write the answer, if this attempt is still the one solving: the
    instance's digest, or None."""
    digest = await keep_instance(session, packed)
    stored = await store(session, model, row_id, attempt, instance_digest=digest, lease_until=None, **values)
    return digest if stored else None


async def store(
    session: AsyncSession, model: type[Solvable], row_id: uuid.UUID, attempt: int, **values: Any
) -> bool:
    """Write the answer, if this attempt is still the one solving."""
    stored = await session.scalar(
        update(model)
        .where(model.id == row_id, model.attempt == attempt, model.status == "solving")
        .values(**values)
        .returning(model.id)
    )
    return stored is not None


async def store_failure(
    resources: Resources, model: type[Solvable], row_id: uuid.UUID, attempt: int, error: Exception
) -> str:
    reason = (
        f"The matcher could not solve this ({type(error).__name__}); ask again, or tell an administrator."
    )
    async with unit_of_work(resources.sessionmaker) as session:
        stored = await store(
            session, model, row_id, attempt, status="failed", failure_reason=reason, lease_until=None
        )
        if stored and model is MatchRequest:
            after_commit(session, lambda: announce_answer(resources.redis, row_id))
    return "failed" if stored else "superseded"


async def sweep_lost_work(resources: Resources) -> dict[str, int]:
    """Enqueue again the requests, batches and what-ifs whose solve is presumed lost (queued or solving past
    their lease), as a new attempt; mark answers older than the setting expired."""
    now = resources.clock()
    valid = timedelta(minutes=resources.settings.match_valid_minutes)
    async with unit_of_work(resources.sessionmaker) as session:
        requests = await _retry_lost(session, MatchRequest, now, lease_until(resources.settings, now))
        batches = await _retry_lost(
            session, MatchBatch, now, lease_until(resources.settings, now, joint_solves=1)
        )
        what_ifs = await _retry_lost(
            session, CapacityWhatIf, now, lease_until(resources.settings, now, joint_solves=2)
        )
        expired = await session.scalars(
            update(MatchRequest)
            .where(MatchRequest.status.in_(ANSWERED), MatchRequest.solved_at <= now - valid)
            .values(status="expired", closed_at=now)
            .returning(MatchRequest.id)
        )
        expired_ids = list(expired)
        for request_id in expired_ids:
            audit.record(session, "expire_match_request", "match_request", request_id)
        for job, found in ((SOLVE_REQUEST, requests), (SOLVE_BATCH, batches), (TRY_WHAT_IF, what_ifs)):
            for row_id, attempt in found:
                after_commit(session, functools.partial(enqueue, resources.redis, job, row_id, attempt))
    return {
        "requests": len(requests),
        "batches": len(batches),
        "what_ifs": len(what_ifs),
        "expired": len(expired_ids),
    }


async def _retry_lost(
    session: AsyncSession, model: type[Solvable], now: datetime, until: datetime
) -> list[tuple[uuid.UUID, int]]:
    lost = await session.execute(
        update(model)
        .where(model.status.in_(UNSOLVED), or_(model.lease_until.is_(None), model.lease_until <= now))
        .values(status="queued", attempt=model.attempt + 1, lease_until=until)
        .returning(model.id, model.attempt)
    )
    found = [(row.id, row.attempt) for row in lost]
    for row_id, attempt in found:
        log.warning(
            "%s %s was lost while queued or solving; attempt %d", model.__tablename__, row_id, attempt
        )
    return found
