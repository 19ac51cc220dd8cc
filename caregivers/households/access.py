"""Who may see which household: placement staff, admins and caseworkers every one; a caregiver
only their own (any other id is a 404, audited, so ids cannot be probed)."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from caregivers.households.models import Caregiver, Household
from placement.core.audit import Actor
from placement.core.errors import NotFound
from placement.core.security.policy import may_see_locations

READERS = ("placement_staff", "admin", "caseworker", "caregiver")
# Who records households, caregivers and training for anyone.
STAFF = ("placement_staff", "admin")
# Who searches for homes that can take a child now.
SEARCHERS = ("placement_staff", "admin", "caseworker")
# Who may change a household's availability and profile: its own caregivers, and staff for any.
SELF_SERVICE = ("placement_staff", "admin", "caregiver")
# What a household's caregivers may change of its profile themselves; licence, capacity, kind,
# location, name and related youth are the program's to record.
CAREGIVER_FIELDS = frozenset(
    {"min_age", "max_age", "genders", "languages", "services", "takes_sibling_groups"}
)


def own_household_ids(actor: Actor) -> Select[uuid.UUID] | None:
    """The ids of the households a caregiver belongs to; None (all) for every other role."""
    if actor.role != "caregiver":
        return None
    me = aliased(Caregiver)
    return select(me.household_id).where(me.user_id == actor.user_id)


def own_households(actor: Actor) -> ColumnElement[bool] | None:
    """The households this actor may see: a caregiver's own, everyone else's all (None)."""
    ids = own_household_ids(actor)
    return None if ids is None else Household.id.in_(ids)


def may_see_household_location(actor: Actor) -> bool:
    """The street address and position: staff and admins, and caregivers (who see only their own)."""
    return may_see_locations(actor) or actor.role == "caregiver"


def not_found(household_id: uuid.UUID) -> NotFound:
    return NotFound(f"No household with id {household_id} that you may see.")


async def visible_household(session: AsyncSession, actor: Actor, household_id: uuid.UUID) -> uuid.UUID:
    """The household's id if this actor may see it; NotFound (audited) otherwise."""
    query = select(Household.id).where(Household.id == household_id)
    scope = own_households(actor)
    found = await session.scalar(query if scope is None else query.where(scope))
    if found is None:
        raise not_found(household_id)
    return found


async def household_to_change(session: AsyncSession, actor: Actor, household_id: uuid.UUID) -> Household:
    """The household, locked until the commit, if this actor may see it; NotFound otherwise."""
    query = select(Household).where(Household.id == household_id).with_for_update()
    scope = own_households(actor)
    household = await session.scalar(query if scope is None else query.where(scope))
    if household is None:
        raise not_found(household_id)
    return household


async def caregiver_of(session: AsyncSession, actor: Actor) -> Caregiver | None:
    """The caregiver (person) this login belongs to, if any."""
    return await session.scalar(select(Caregiver).where(Caregiver.user_id == actor.user_id))
