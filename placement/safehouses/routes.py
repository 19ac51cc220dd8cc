"""HTTP routes: safe houses, beds, and free beds now."""

from __future__ import annotations

import uuid

from litestar import Router, get, patch, post
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor
from placement.core.idempotency import IdempotentCreate
from placement.core.resources import Resources
from placement.core.schemas import Limit, Offset, Page
from placement.core.security.guards import allow
from placement.core.security.policy import may_see_locations
from placement.reference.nearby import AgeQuery, NearQuery, ServicesQuery, WithinKmQuery, place_filter
from placement.safehouses import availability, service
from placement.safehouses.schemas import (
    AvailableBed,
    BedCreate,
    BedOut,
    BedUpdate,
    SafeHouseCreate,
    SafeHouseDetail,
    SafeHouseOut,
    SafeHouseUpdate,
)

READERS = ("placement_staff", "admin", "caseworker")
WRITERS = ("placement_staff", "admin")


@get("/safe-houses", opt=allow(*READERS, entity="safe_house"))
async def list_safe_houses(
    session: AsyncSession,
    actor: Actor,
    region: uuid.UUID | None = None,
    county: uuid.UUID | None = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[SafeHouseOut]:
    """Safe houses with bed counts; addresses only for placement staff and admins."""
    return await service.list_safe_houses(session, actor, region, county, active, limit, offset)


@post("/safe-houses", opt=allow(*WRITERS, entity="safe_house"))
async def create_safe_house(
    data: SafeHouseCreate, session: AsyncSession, actor: Actor, idempotent: IdempotentCreate
) -> SafeHouseDetail:
    return await idempotent(
        data,
        lambda: service.create_safe_house(session, actor, data),
        lambda created: service.get_safe_house(session, actor, created),
    )


@get("/safe-houses/{id:uuid}", opt=allow(*READERS, entity="safe_house"))
async def get_safe_house(id: uuid.UUID, session: AsyncSession, actor: Actor) -> SafeHouseDetail:
    return await service.get_safe_house(session, actor, id)


@patch("/safe-houses/{id:uuid}", opt=allow(*WRITERS, entity="safe_house"))
async def update_safe_house(
    id: uuid.UUID, data: SafeHouseUpdate, session: AsyncSession, actor: Actor
) -> SafeHouseDetail:
    return await service.update_safe_house(session, actor, id, data)


@post("/safe-houses/{id:uuid}/beds", opt=allow(*WRITERS, entity="safe_house"))
async def add_bed(
    id: uuid.UUID, data: BedCreate, session: AsyncSession, idempotent: IdempotentCreate
) -> BedOut:
    return await idempotent(
        data, lambda: service.add_bed(session, id, data), lambda bed: service.get_bed(session, bed)
    )


@patch("/beds/{id:uuid}", opt=allow(*WRITERS, entity="bed"))
async def update_bed(id: uuid.UUID, data: BedUpdate, session: AsyncSession, resources: Resources) -> BedOut:
    """Rename a bed, retire it, or take it out of service with a reason (null to restore)."""
    return await service.update_bed(session, id, data, resources.clock())


@get("/beds/available", opt=allow("placement_staff", "admin", "caseworker", entity="bed"))
async def list_available_beds(
    session: AsyncSession,
    actor: Actor,
    region: uuid.UUID | None = None,
    county: uuid.UUID | None = None,
    age: AgeQuery = None,
    gender: str | None = None,
    services: ServicesQuery = None,
    near: NearQuery = None,
    within_km: WithinKmQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AvailableBed]:
    """Beds free right now; with `near`, nearest first (distance bands for roles that may not see
    positions)."""
    exact = may_see_locations(actor)
    f = place_filter(actor, region, county, age, gender, services or [], near, within_km)
    return await availability.list_available_beds(session, f, limit, offset, exact)


router = Router(
    path="/",
    route_handlers=[
        list_safe_houses,
        create_safe_house,
        get_safe_house,
        update_safe_house,
        add_bed,
        update_bed,
        list_available_beds,
    ],
    tags=["safe houses"],
)
