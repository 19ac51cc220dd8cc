"""HTTP routes for holds and placements in beds and households."""

from __future__ import annotations

import uuid

from litestar import Router, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor
from placement.core.idempotency import IdempotentCreate
from placement.core.resources import Resources
from placement.core.schemas import Limit, Offset, Page
from placement.core.security.guards import allow
from placement.placements import service
from placement.placements.schemas import (
    PlacementCancel,
    PlacementCreate,
    PlacementEnd,
    PlacementOut,
    PlacementStatus,
)

STAFF = allow("placement_staff", entity="placement")
READERS = allow("placement_staff", "caseworker", entity="placement")


@get("/placements", opt=READERS)
async def list_placements(
    session: AsyncSession,
    actor: Actor,
    status: PlacementStatus | None = None,
    youth_id: uuid.UUID | None = None,
    bed_id: uuid.UUID | None = None,
    household_id: uuid.UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PlacementOut]:
    """Placements, newest first (caseworkers: only of youth on their caseload)."""
    return await service.list_placements(
        session, actor, status, youth_id, bed_id, household_id, limit, offset
    )


@post("/placements", opt=STAFF)
async def hold_place(
    data: PlacementCreate,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    idempotent: IdempotentCreate,
) -> PlacementOut:
    """Hold a bed, or a place in a household, for a youth until a deadline; 409 names the bed or
    home if it is taken, full, paused, closed or unlicensed."""
    now = resources.clock()
    return await idempotent(
        data,
        lambda: service.hold_place(session, actor, data, resources.settings, now),
        lambda created: service.get_placement(session, actor, created),
    )


@get("/placements/{id:uuid}", opt=READERS)
async def get_placement(id: uuid.UUID, session: AsyncSession, actor: Actor) -> PlacementOut:
    return await service.read_placement(session, actor, id)


@post("/placements/{id:uuid}/confirm", opt=STAFF, status_code=200)
async def confirm_placement(
    id: uuid.UUID, session: AsyncSession, actor: Actor, resources: Resources
) -> PlacementOut:
    return await service.confirm_placement(session, actor, id, resources.clock())


@post("/placements/{id:uuid}/end", opt=STAFF, status_code=200)
async def end_placement(
    id: uuid.UUID, data: PlacementEnd, session: AsyncSession, actor: Actor, resources: Resources
) -> PlacementOut:
    return await service.end_placement(session, actor, id, data, resources.clock())


@post("/placements/{id:uuid}/cancel", opt=STAFF, status_code=200)
async def cancel_hold(
    id: uuid.UUID, data: PlacementCancel, session: AsyncSession, actor: Actor, resources: Resources
) -> PlacementOut:
    return await service.cancel_hold(session, actor, id, data, resources.clock())


router = Router(
    path="/",
    route_handlers=[
        list_placements,
        hold_place,
        get_placement,
        confirm_placement,
        end_placement,
        cancel_hold,
    ],
    tags=["placements"],
)
