"""HTTP routes for youth referrals: caseworkers on their own caseload, placement staff on all."""

from __future__ import annotations

import uuid

from litestar import Router, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor, Reads
from placement.core.idempotency import IdempotentCreate
from placement.core.resources import Resources
from placement.core.schemas import Limit, Offset, Page
from placement.core.security.guards import allow
from placement.youth import service
from placement.youth.schemas import YouthCreate, YouthOut, YouthStatus, YouthUpdate

ROLES = allow("placement_staff", "caseworker", entity="youth")


@get("/youth", opt=ROLES)
async def list_youth(
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    status: YouthStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[YouthOut]:
    """Youth on your caseload (placement staff: all), most urgent first."""
    today = resources.clock().date()
    return await service.list_youth(session, actor, status, limit, offset, today)


@post("/youth", opt=ROLES)
async def refer_youth(
    data: YouthCreate, session: AsyncSession, actor: Actor, resources: Resources, idempotent: IdempotentCreate
) -> YouthOut:
    today = resources.clock().date()
    return await idempotent(
        data,
        lambda: service.refer_youth(session, actor, data, today),
        lambda created: service.get_youth(session, actor, created, today),
    )


@get("/youth/{id:uuid}", opt=ROLES)
async def get_youth(id: uuid.UUID, reads: Reads, resources: Resources) -> YouthOut:
    return await service.read_youth(reads, id, resources.clock().date())


@patch("/youth/{id:uuid}", opt=ROLES)
async def update_youth(
    id: uuid.UUID, data: YouthUpdate, session: AsyncSession, actor: Actor, resources: Resources
) -> YouthOut:
    return await service.update_youth(session, actor, id, data, resources.clock())


router = Router(path="/", route_handlers=[list_youth, refer_youth, get_youth, update_youth], tags=["youth"])
