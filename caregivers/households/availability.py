"""Self-reported availability: open, paused until a day, or closed, and re-confirming it.

Each change or confirmation names the version it read (`If-Match`), bumps the version and stamps
when availability was last confirmed; every one is audited with the old and new values.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.access import household_to_change, visible_household
from caregivers.households.models import Household
from caregivers.households.schemas import (
    AvailabilityChange,
    AvailabilityEvent,
    AvailabilityStatus,
    HouseholdOut,
)
from caregivers.households.service import ENTITY, Reading, get_household, open_on
from placement.core import audit
from placement.core.audit import Actor
from placement.core.concurrency import check_if_match
from placement.core.errors import Conflict, Unprocessable
from placement.core.schemas import Page


def _check_change(change: AvailabilityChange, today: date) -> None:
    if change.status == "paused":
        if change.paused_until is None:
            raise Unprocessable("paused_until: say from which day the household takes children again")
        if change.paused_until <= today:
            raise Unprocessable(f"paused_until: {change.paused_until.isoformat()} is not after today")
    elif change.paused_until is not None:
        raise Unprocessable(f"paused_until: only a paused household has one, not an {change.status} one")


CHANGED, CONFIRMED = "set_household_availability", "confirm_household_availability"
UNTIL = " until "


def _state(household: Household) -> str:
    """The availability as the audit trail records it: `open`, `closed`, `paused until 2027-01-04`."""
    until = f"{UNTIL}{household.paused_until.isoformat()}" if household.paused_until else ""
    return f"{household.availability}{until}"


def _read_state(state: str) -> tuple[AvailabilityStatus, date | None]:
    """`_state`'s words read back: the status and the day a pause ends."""
    status, _, until = state.partition(UNTIL)
    return cast(AvailabilityStatus, status), date.fromisoformat(until) if until else None


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
        CHANGED,
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
        CONFIRMED,
        ENTITY,
        household_id,
        state=_state(household),
        previously_confirmed=previous.isoformat() if previous else None,
    )
    return await get_household(session, actor, household_id, reading)


async def availability_history(
    session: AsyncSession, actor: Actor, household_id: uuid.UUID, limit: int, offset: int
) -> Page[AvailabilityEvent]:
    """Each change and re-confirmation of the household's availability, newest first, and who
    made it (by role, or you): read from the audit trail, which records every one."""
    await visible_household(session, actor, household_id)
    actions = (CHANGED, CONFIRMED)
    entries, total = await audit.history_of(session, ENTITY, household_id, actions, limit, offset)
    audit.record(session, "read_availability_history", ENTITY, household_id, count=len(entries))
    items = [_event(entry, actor) for entry in entries]
    return Page(items=items, total=total, limit=limit, offset=offset)


def _event(entry: audit.AuditEntry, actor: Actor) -> AvailabilityEvent:
    changed = entry.action == CHANGED
    status, until = _read_state(entry.detail["new"] if changed else entry.detail["state"])
    previous, previous_until = _read_state(entry.detail["old"]) if changed else (None, None)
    return AvailabilityEvent(
        at=entry.at,
        kind="changed" if changed else "confirmed",
        status=status,
        paused_until=until,
        previous_status=previous,
        previous_paused_until=previous_until,
        note=entry.detail.get("new_note") if changed else None,
        by_role=entry.role,
        by_you=entry.actor_id == actor.user_id,
    )
