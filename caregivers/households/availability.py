"""Self-reported availability: open, paused until a day, or closed, and re-confirming it.

Each change or confirmation names the version it read (`If-Match`), bumps the version and stamps
when availability was last confirmed; every one is audited with the old and new values.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.access import household_to_change
from caregivers.households.models import Household
from caregivers.households.schemas import AvailabilityChange, HouseholdOut
from caregivers.households.service import ENTITY, Reading, get_household, open_on
from placement.core import audit
from placement.core.audit import Actor
from placement.core.concurrency import check_if_match
from placement.core.errors import Conflict, Unprocessable


def _check_change(change: AvailabilityChange, today: date) -> None:
    if change.status == "paused":
        if change.paused_until is None:
            raise Unprocessable("paused_until: say from which day the household takes children again")
        if change.paused_until <= today:
            raise Unprocessable(f"paused_until: {change.paused_until.isoformat()} is not after today")
    elif change.paused_until is not None:
        raise Unprocessable(f"paused_until: only a paused household has one, not an {change.status} one")


def _state(household: Household) -> str:
    until = f" until {household.paused_until.isoformat()}" if household.paused_until else ""
    return f"{household.availability}{until}"


async def set_availability(
    session: AsyncSession,
    actor: Actor,
    household_id: uuid.UUID,
    change: AvailabilityChange,
    version_read: str | None,
    reading: Reading,
) -> HouseholdOut:
    """Open, pause or close the household (its caregivers, or staff); this also confirms it."""
    household = await household_to_change(session, actor, household_id)
    check_if_match(version_read, household.version, "household")
    _check_change(change, reading.now.date())
    before, note_before = _state(household), household.availability_note
    household.availability, household.paused_until = change.status, change.paused_until
    household.availability_note = change.note or None
    household.availability_confirmed_at = reading.now
    household.version += 1
    audit.record(
        session,
        "set_household_availability",
        ENTITY,
        household_id,
        old=before,
        new=_state(household),
        old_note=note_before,
        new_note=household.availability_note,
    )
    return await get_household(session, actor, household_id, reading)


async def confirm_availability(
    session: AsyncSession, actor: Actor, household_id: uuid.UUID, version_read: str | None, reading: Reading
) -> HouseholdOut:
    """Re-confirm the availability unchanged; a pause that has ended must be replaced, not confirmed."""
    household = await household_to_change(session, actor, household_id)
    check_if_match(version_read, household.version, "household")
    if household.availability == "paused" and open_on(household, reading.now.date()):
        raise Conflict(
            f"The pause ended on {household.paused_until}; set the availability (open, paused or closed)."
        )
    previous = household.availability_confirmed_at
    household.availability_confirmed_at = reading.now
    household.version += 1
    audit.record(
        session,
        "confirm_household_availability",
        ENTITY,
        household_id,
        state=_state(household),
        previously_confirmed=previous.isoformat() if previous else None,
    )
    return await get_household(session, actor, household_id, reading)
