"""A caregiver's own notifications: the list, and marking one read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Final

from sqlalchemy import RowMapping, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.access import caregiver_of
from caregivers.households.models import Caregiver
from caregivers.reminders.models import Notification
from caregivers.reminders.schemas import NotificationOut
from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import NotFound
from placement.core.schemas import Page

ENTITY: Final = "notification"
SHOWN = (
    Notification.id,
    Notification.reason,
    Notification.subject_id,
    Notification.household_id,
    Notification.due_on,
    Notification.message,
    Notification.created_at,
    Notification.read_at,
)


def _out(row: RowMapping) -> NotificationOut:
    return NotificationOut(**{column.key: row[column.key] for column in SHOWN})


async def my_notifications(
    session: AsyncSession, actor: Actor, unread_only: bool, limit: int, offset: int
) -> Page[NotificationOut]:
    """The notifications of the person this login belongs to, the latest due first; none for a
    login that belongs to no one."""
    person = await caregiver_of(session, actor)
    if person is None:
        return Page(items=[], total=0, limit=limit, offset=offset)
    query = select(*SHOWN).where(Notification.caregiver_id == person.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(Notification.due_on.desc(), Notification.created_at.desc(), Notification.id)
        .limit(limit)
        .offset(offset)
    )
    return Page(items=[_out(r._mapping) for r in rows], total=total, limit=limit, offset=offset)


async def mark_read(
    session: AsyncSession, actor: Actor, notification_id: uuid.UUID, now: datetime
) -> NotificationOut:
    """Mark one of this caregiver's notifications read, keeping the first time if it already was.
    Raises NotFound (audited) for an id that is not theirs."""
    mine = select(Caregiver.id).where(Caregiver.user_id == actor.user_id).scalar_subquery()
    row = (
        await session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.caregiver_id == mine)
            .values(read_at=func.coalesce(Notification.read_at, now))
            .returning(*SHOWN)
        )
    ).first()
    if row is None:
        raise NotFound(f"No notification with id {notification_id} that you may see.")
    audit.record(session, "mark_notification_read", ENTITY, notification_id)
    return _out(row._mapping)
