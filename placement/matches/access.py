"""Who may ask for, read and act on which match requests.

Placement staff: every request. A caseworker: the requests whose youth are all on their caseload;
any other is "not found" (and the refusal audited), so ids cannot be probed.
"""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor
from placement.core.errors import NotFound
from placement.core.security.guards import allow
from placement.matches.models import MatchRequest
from placement.youth.models import Youth
from placement.youth.service import caseload_of

ENTITY: Final = "match_request"
ASKERS = allow("placement_staff", "caseworker", entity=ENTITY)
BATCH_RUNNERS = allow("placement_staff", entity="match_batch")


def on_caseload(actor: Actor) -> ColumnElement[bool] | None:
    """The requests this actor may see (None: all of them)."""
    youth = caseload_of(actor)
    if youth is None:
        return None
    caseload = select(func.array_agg(Youth.id)).where(youth)
    contained: ColumnElement[bool] = MatchRequest.youth_ids.contained_by(caseload.scalar_subquery())
    return contained


def visible_requests(actor: Actor) -> Select[MatchRequest]:
    query = select(MatchRequest)
    scope = on_caseload(actor)
    return query if scope is None else query.where(scope)


async def visible_request(
    session: AsyncSession, actor: Actor, request_id: uuid.UUID, *, lock: bool = False
) -> MatchRequest:
    """The request, if this actor may see it (locked until the commit if asked); 404 otherwise."""
    query = visible_requests(actor).where(MatchRequest.id == request_id)
    request = await session.scalar(query.with_for_update(of=MatchRequest) if lock else query)
    if request is None:
        raise NotFound(f"No match request with id {request_id} for youth on your caseload.")
    return request
