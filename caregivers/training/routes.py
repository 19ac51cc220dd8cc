"""HTTP routes: the training catalog, completions, readiness rules and a household's readiness."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Router, get, post, put
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.access import STAFF
from caregivers.training import service
from caregivers.training.schemas import (
    Audience,
    CompletionCreate,
    CompletionOut,
    HouseholdReadiness,
    ModuleCreate,
    ModuleOut,
    ReadinessRules,
)
from placement.core.audit import Actor
from placement.core.idempotency import IdempotentCreate
from placement.core.resources import Resources
from placement.core.schemas import Limit, Offset, Page
from placement.core.security.guards import allow

CATALOG_READERS = ("placement_staff", "admin", "caseworker", "caregiver", "program_lead")
COMPLETION_READERS = ("placement_staff", "admin", "caseworker", "caregiver")
COMPLETION_WRITERS = ("placement_staff", "admin", "caregiver")
READINESS_READERS = ("placement_staff", "admin", "caseworker", "caregiver")


@get("/training/modules", opt=allow(*CATALOG_READERS, entity="training_module"))
async def list_training_modules(
    session: AsyncSession,
    audience: Audience | None = None,
    series: Annotated[str | None, Parameter(description="A series' code", max_length=60)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ModuleOut]:
    """The training catalog in order: series by code, modules by position."""
    return await service.list_modules(session, audience, series, limit, offset)


@post("/training/modules", opt=allow("admin", entity="training_module"))
async def create_training_module(
    data: ModuleCreate, session: AsyncSession, idempotent: IdempotentCreate
) -> ModuleOut:
    """Add a module to a series (named by code); a taken code or position is a 409."""
    return await idempotent(
        data,
        lambda: service.create_module(session, data),
        lambda created: service.get_module(session, created),
    )


@get("/caregivers/{id:uuid}/completions", opt=allow(*COMPLETION_READERS, entity="caregiver"))
async def list_completions(
    id: uuid.UUID, session: AsyncSession, actor: Actor, limit: Limit = 50, offset: Offset = 0
) -> Page[CompletionOut]:
    """A caregiver's completed training, latest first (a caregiver: people of their own household)."""
    return await service.list_completions(session, actor, id, limit, offset)


@post("/caregivers/{id:uuid}/completions", opt=allow(*COMPLETION_WRITERS, entity="caregiver"))
async def record_completion(
    id: uuid.UUID,
    data: CompletionCreate,
    session: AsyncSession,
    actor: Actor,
    resources: Resources,
    idempotent: IdempotentCreate,
) -> CompletionOut:
    """A caregiver records their own training (self-reported); staff record anyone's, and may verify
    it at once. Dated in the future, before the module existed, or twice for one day: 422."""
    now = resources.clock()
    return await idempotent(
        data,
        lambda: service.record_completion(session, actor, id, data, now),
        lambda created: service.get_completion(session, actor, created),
    )


@post("/completions/{id:uuid}/verify", opt=allow(*STAFF, entity="completion"), status_code=200)
async def verify_completion(
    id: uuid.UUID, session: AsyncSession, actor: Actor, resources: Resources
) -> CompletionOut:
    """Verify a completion (409 if it already is); only verified ones count by default."""
    return await service.verify_completion(session, actor, id, resources.clock())


@get("/training/rules", opt=allow(*STAFF, entity="readiness_rule"))
async def get_readiness_rules(session: AsyncSession) -> ReadinessRules:
    """The modules each primary caregiver needs, per level of care."""
    return await service.get_rules(session)


@put("/training/rules", opt=allow("admin", entity="readiness_rule"))
async def replace_readiness_rules(data: ReadinessRules, session: AsyncSession) -> ReadinessRules:
    """Replace the whole map at once; every level must be named (an empty list needs nothing)."""
    return await service.replace_rules(session, data)


@get("/households/{id:uuid}/readiness", opt=allow(*READINESS_READERS, entity="household"))
async def get_household_readiness(
    id: uuid.UUID, session: AsyncSession, actor: Actor, resources: Resources
) -> HouseholdReadiness:
    """Per level of care: ready or not, percent of (primary caregiver, required module) pairs met,
    what each primary caregiver still lacks and why, and the next expiry. A level with no rules is
    ready; a level with rules is not ready for a household without a primary caregiver."""
    today = resources.clock().date()
    counts_self_reported = resources.settings.readiness_counts_self_reported
    return await service.household_readiness(session, actor, id, today, counts_self_reported)


router = Router(
    path="/",
    route_handlers=[
        list_training_modules,
        create_training_module,
        list_completions,
        record_completion,
        verify_completion,
        get_readiness_rules,
        replace_readiness_rules,
        get_household_readiness,
    ],
    tags=["training"],
)
