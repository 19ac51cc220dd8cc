"""Why a target was not proposed: the engine's `why_not` on the very instance the request solved,
so the explanation agrees with the proposals (distances in bands for the roles that may not see
positions)."""

from __future__ import annotations

import uuid
import zlib
from datetime import datetime

import msgspec
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.models import Household
from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import Conflict, NotFound
from placement.core.offload import ProcessPool
from placement.core.security.policy import may_see_locations
from placement.matches import engine_calls
from placement.matches.access import ENTITY, visible_request
from placement.matches.loading import Candidates, load_instance
from placement.matches.models import MatchInstance
from placement.matches.schemas import WhyNotOut
from placement.matching.schema import RuleFailure, WhyNot
from placement.safehouses.models import Bed

NOT_FREE = RuleFailure(rule="capacity", detail="not free: held, occupied or out of service")


async def explain_target(
    session: AsyncSession,
    actor: Actor,
    request_id: uuid.UUID,
    target_id: uuid.UUID,
    pool: ProcessPool,
    now: datetime,
    counts_self_reported: bool,
) -> WhyNotOut:
    """For each member of the request: the rules the target fails, or its score and rank, on the
    instance the request was solved on. A target that instance left out (its loading kept only
    the targets that pass the cheap rules for the youth, or free beds) is judged on today's data."""
    request = await visible_request(session, actor, request_id)
    if request.instance_digest is None:
        raise Conflict(f"Match request {request_id} is {request.status}: there is nothing to explain yet.")
    if not await _exists(session, target_id):
        raise NotFound(f"No bed or household with id {target_id}.")
    packed = await session.scalar(
        select(MatchInstance.body).where(MatchInstance.digest == request.instance_digest)
    )
    assert packed is not None  # a foreign key keeps it
    pairs = [(str(youth_id), str(target_id)) for youth_id in request.youth_ids]
    banded = not may_see_locations(actor)
    answers = await pool.run(engine_calls.explain_pairs, zlib.decompress(packed), pairs, banded)
    if None in answers:
        today = await load_instance(
            session,
            request.youth_ids,
            now,
            counts_self_reported,
            candidates=Candidates(only=[target_id]),
            max_distance_km=request.max_distance_km,
        )
        answers = await pool.run(engine_calls.explain_pairs, msgspec.json.encode(today), pairs, banded)
    audit.record(session, "explain_match", ENTITY, request_id, target_id=str(target_id))
    return WhyNotOut(
        request_id=request_id,
        explanations=[
            msgspec.json.decode(answer, type=WhyNot)
            if answer is not None
            else WhyNot(youth_id=youth_id, target_id=target, feasible=False, failures=(NOT_FREE,))
            for (youth_id, target), answer in zip(pairs, answers, strict=True)
        ],
    )


async def _exists(session: AsyncSession, target_id: uuid.UUID) -> bool:
    """Whether the id names a bed or a household."""
    found = await session.scalar(
        select(exists().where(Bed.id == target_id) | exists().where(Household.id == target_id))
    )
    return bool(found)
