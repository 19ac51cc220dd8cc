"""Accepting a proposal: every member's bed or place held in one transaction.

The holds go through `placement.placements.service.hold_place`, so the same guards apply as to a
hold made by hand (the live-placement indexes, the household's row lock, the youth's safety
plan). If one cannot be held, nothing is: the answer names what changed, and says which of the
request's other proposals the engine still finds feasible on today's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import Conflict, Unprocessable
from placement.core.offload import ProcessPool
from placement.core.settings import Settings
from placement.matches import engine_calls
from placement.matches.access import ENTITY, visible_request
from placement.matches.loading import load_instance
from placement.matches.models import MatchRequest
from placement.matches.requests import request_view, status_on
from placement.matches.schemas import AcceptProposal, MatchRequestOut
from placement.matches.solving import request_candidates
from placement.matching.schema import Assignment, Proposal, Ranking, WhyNot
from placement.placements.schemas import PlacementCreate
from placement.placements.service import hold_place
from placement.safehouses.models import Bed


async def accept_proposal(
    session: AsyncSession,
    actor: Actor,
    request_id: uuid.UUID,
    data: AcceptProposal,
    pool: ProcessPool,
    settings: Settings,
    now: datetime,
) -> MatchRequestOut:
    request = await visible_request(session, actor, request_id, lock=True)
    status = status_on(request, now, settings)
    if status != "proposed":
        again = " Ask for a new match: the data has moved on." if status == "expired" else ""
        raise Conflict(f"Only a request with proposals can be accepted; this one is {status}.{again}")
    ranking = msgspec.convert(request.result, Ranking)
    proposal = next((p for p in ranking.proposals if p.rank == data.rank), None)
    if proposal is None:
        raise Unprocessable(f"rank: the request has proposals 1 to {len(ranking.proposals)}.")
    try:
        placed = await hold_all(session, actor, proposal.assignments, settings, now)
    except (Conflict, Unprocessable) as refused:
        others = [p for p in ranking.proposals if p.rank != data.rank]
        valid = await still_feasible(session, request, others, pool, settings, now)
        raise Conflict(
            f"Proposal {data.rank} can no longer be held: {refused.detail}",
            changed=refused.detail,
            still_valid=valid,
        ) from None
    request.status, request.accepted_rank, request.placement_ids = "accepted", data.rank, placed
    request.closed_at = now
    await session.flush()
    audit.record(
        session, "accept_proposal", ENTITY, request_id, rank=data.rank, placements=",".join(map(str, placed))
    )
    return await request_view(session, request, actor, settings, now)


async def hold_all(
    session: AsyncSession, actor: Actor, assignments: Sequence[Assignment], settings: Settings, now: datetime
) -> list[uuid.UUID]:
    """Hold each youth's bed or place, all or none (a savepoint: the request goes on either way).
    Raises the first refusal."""
    targets = [uuid.UUID(a.target_id) for a in assignments]
    beds = set(await session.scalars(select(Bed.id).where(Bed.id.in_(targets))))
    async with session.begin_nested():
        return [
            (
                await hold_place(
                    session,
                    actor,
                    PlacementCreate(
                        youth_id=uuid.UUID(a.youth_id),
                        bed_id=target if target in beds else None,
                        household_id=None if target in beds else target,
                    ),
                    settings,
                    now,
                )
            ).id
            for a, target in zip(assignments, targets, strict=True)
        ]


async def still_feasible(
    session: AsyncSession,
    request: MatchRequest,
    proposals: list[Proposal],
    pool: ProcessPool,
    settings: Settings,
    now: datetime,
) -> list[int]:
    """The ranks of the proposals whose every member's target the engine finds feasible on the
    data of now (a bed taken since is no candidate at all)."""
    if not proposals:
        return []
    instance = await load_instance(
        session,
        request.youth_ids,
        now,
        settings.readiness_counts_self_reported,
        candidates=request_candidates(request, narrowed=True),
        max_distance_km=request.max_distance_km,
    )
    pairs = [(a.youth_id, a.target_id) for p in proposals for a in p.assignments]
    answers = await pool.run(engine_calls.explain_pairs, msgspec.json.encode(instance), pairs, False)
    feasible = iter(a is not None and msgspec.json.decode(a, type=WhyNot).feasible for a in answers)
    return [p.rank for p in proposals if all([next(feasible) for _ in p.assignments])]
