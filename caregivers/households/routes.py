"""HTTP routes: households, their caregivers, and self-service availability."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Response, Router, get, patch, post, put
from litestar.di import Provide
from litestar.params import Dependency, Parameter
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households import availability, available, service
from caregivers.households.access import READERS, SEARCHERS, SELF_SERVICE, STAFF
from caregivers.households.available import HouseholdFilter
from caregivers.households.models import Household
from caregivers.households.occupancy import PlacesTaken
from caregivers.households.schemas import (
    AvailabilityChange,
    AvailabilityEvent,
    AvailabilityStatus,
    AvailableHousehold,
    CaregiverCreate,
    CaregiverOut,
    HouseholdCreate,
    HouseholdOut,
    HouseholdUpdate,
    Kind,
)
from caregivers.households.service import Reading
from placement.core.audit import Actor
from placement.core.concurrency import IfMatch, etag
from placement.core.errors import problem_responses
from placement.core.idempotency import IdempotentCreate
from placement.core.resources import Resources
from placement.core.schemas import Limit, Offset, Page
from placement.core.security.guards import allow
from placement.core.security.policy import may_see_locations
from placement.core.vocabulary import CareLevel
from placement.reference.models import Municipality
from placement.reference.nearby import AgeQuery, NearQuery, ServicesQuery, WithinKmQuery, place_filter

ENTITY = service.ENTITY
ReadingNow = Annotated[Reading, Dependency(skip_validation=True)]
VERSIONED = problem_responses(412, 428)


def provide_reading(
    resources: Resources, places_taken: Annotated[PlacesTaken, Dependency(skip_validation=True)]
) -> Reading:
    """What reading households needs: the placement domain's count of places taken, and the time."""
    settings = resources.settings
    return Reading(
        places_taken, resources.clock(), settings.stale_after_days, settings.readiness_counts_self_reported
    )


def with_etag(household: HouseholdOut, status_code: int = 200) -> Response[HouseholdOut]:
    """The household, with its version as the ETag a change must send back in If-Match."""
    return Response(household, status_code=status_code, headers={"ETag": etag(household.version)})


@get("/households", opt=allow(*READERS, entity=ENTITY))
async def list_households(
    session: AsyncSession,
    actor: Actor,
    reading: ReadingNow,
    region: uuid.UUID | None = None,
    county: uuid.UUID | None = None,
    kind: Kind | None = None,
    availability_status: AvailabilityStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[HouseholdOut]:
    """Households by name (a caregiver: their own); addresses for placement staff, admins and
    the household's caregivers only."""
    filters: list[ColumnElement[bool]] = []
    if region:
        filters.append(Municipality.region_id == region)
    if county:
        filters.append(Municipality.county_id == county)
    if kind:
        filters.append(Household.kind == kind)
    if availability_status:
        filters.append(Household.availability == availability_status)
    return await service.list_households(session, actor, reading, filters, limit, offset)


@get("/households/available", opt=allow(*SEARCHERS, entity=ENTITY))
async def list_available_households(
    session: AsyncSession,
    actor: Actor,
    reading: ReadingNow,
    region: uuid.UUID | None = None,
    county: uuid.UUID | None = None,
    age: AgeQuery = None,
    gender: str | None = None,
    services: ServicesQuery = None,
    near: NearQuery = None,
    within_km: WithinKmQuery = None,
    kind: Kind | None = None,
    ready_for: Annotated[
        CareLevel | None, Parameter(description="Only homes whose primary caregivers are trained for it")
    ] = None,
    include_stale: Annotated[
        bool, Parameter(description="Include homes whose availability was not confirmed recently")
    ] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[AvailableHousehold]:
    """Households that can take a child now (licensed, open, a free place), as `GET /beds/available`;
    with `near`, nearest first (distance bands for roles that may not see positions)."""
    place = place_filter(actor, region, county, age, gender, services or [], near, within_km)
    f = HouseholdFilter(place, kind, include_stale, ready_for)
    return await available.list_available_households(
        session, f, limit, offset, may_see_locations(actor), reading
    )


@post("/households", opt=allow(*STAFF, entity=ENTITY))
async def create_household(
    data: HouseholdCreate,
    session: AsyncSession,
    actor: Actor,
    reading: ReadingNow,
    idempotent: IdempotentCreate,
) -> Response[HouseholdOut]:
    """Register a household; the answer's ETag is what its first change sends as If-Match."""
    created = await idempotent(
        data,
        lambda: service.create_household(session, actor, data, reading),
        lambda created: service.get_household(session, actor, created, reading),
    )
    return with_etag(created, status_code=201)


@get("/households/{id:uuid}", opt=allow(*READERS, entity=ENTITY))
async def get_household(
    id: uuid.UUID, session: AsyncSession, actor: Actor, reading: ReadingNow
) -> Response[HouseholdOut]:
    """One household, with its free places now; the ETag is what a change sends as If-Match."""
    return with_etag(await service.get_household(session, actor, id, reading))


@patch("/households/{id:uuid}", opt=allow(*SELF_SERVICE, entity=ENTITY), responses=VERSIONED)
async def update_household(
    id: uuid.UUID,
    data: HouseholdUpdate,
    session: AsyncSession,
    actor: Actor,
    reading: ReadingNow,
    if_match: IfMatch,
) -> Response[HouseholdOut]:
    return with_etag(await service.update_household(session, actor, id, data, if_match, reading))


@put("/households/{id:uuid}/availability", opt=allow(*SELF_SERVICE, entity=ENTITY), responses=VERSIONED)
async def set_availability(
    id: uuid.UUID,
    data: AvailabilityChange,
    session: AsyncSession,
    actor: Actor,
    reading: ReadingNow,
    if_match: IfMatch,
) -> Response[HouseholdOut]:
    """Open, pause until a day, or close the household (its own caregivers, or staff)."""
    return with_etag(await availability.set_availability(session, actor, id, data, if_match, reading))


@post(
    "/households/{id:uuid}/availability/confirm",
    opt=allow(*SELF_SERVICE, entity=ENTITY),
    responses=VERSIONED,
    status_code=200,
)
async def confirm_availability(
    id: uuid.UUID, session: AsyncSession, actor: Actor, reading: ReadingNow, if_match: IfMatch
) -> Response[HouseholdOut]:
    """Re-confirm the availability unchanged: it is no longer stale."""
    return with_etag(await availability.confirm_availability(session, actor, id, if_match, reading))


@get("/households/{id:uuid}/availability/history", opt=allow(*SELF_SERVICE, entity=ENTITY))
async def availability_history(
    id: uuid.UUID, session: AsyncSession, actor: Actor, limit: Limit = 50, offset: Offset = 0
) -> Page[AvailabilityEvent]:
    """What changed in the household's availability and when, and each re-confirmation, newest
    first (its own caregivers, or staff)."""
    return await availability.availability_history(session, actor, id, limit, offset)


@post("/households/{id:uuid}/caregivers", opt=allow(*STAFF, entity=ENTITY))
async def add_caregiver(
    id: uuid.UUID, data: CaregiverCreate, session: AsyncSession, actor: Actor, idempotent: IdempotentCreate
) -> CaregiverOut:
    return await idempotent(
        data,
        lambda: service.add_caregiver(session, actor, id, data),
        lambda created: service.get_caregiver(session, created),
    )


router = Router(
    path="/",
    route_handlers=[
        list_households,
        list_available_households,
        create_household,
        get_household,
        update_household,
        set_availability,
        confirm_availability,
        availability_history,
        add_caregiver,
    ],
    dependencies={"reading": Provide(provide_reading, sync_to_thread=False)},
    tags=["households"],
)
