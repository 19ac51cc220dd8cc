"""HTTP routes: a caregiver's own notifications (the outbox the daily reminders job writes)."""

from __future__ import annotations

import uuid

from litestar import Router, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.reminders import service
from caregivers.reminders.schemas import NotificationOut
from placement.core.audit import Actor
from placement.core.resources import Resources
from placement.core.schemas import Limit, Offset, Page
from placement.core.security.guards import allow

CAREGIVER = allow("caregiver", entity="notification")


@get("/me/notifications", opt=CAREGIVER)
async def my_notifications(
    session: AsyncSession, actor: Actor, unread_only: bool = False, limit: Limit = 50, offset: Offset = 0
) -> Page[NotificationOut]:
    """Your reminders (training or licence expiring, availability to confirm), the latest due
    first; `unread_only` leaves out those you marked read."""
    return await service.my_notifications(session, actor, unread_only, limit, offset)


@post("/me/notifications/{id:uuid}/read", opt=CAREGIVER, status_code=200)
async def mark_notification_read(
    id: uuid.UUID, session: AsyncSession, actor: Actor, resources: Resources
) -> NotificationOut:
    """Mark one of your notifications read; marking it again keeps the first time."""
    return await service.mark_read(session, actor, id, resources.clock())


router = Router(path="/", route_handlers=[my_notifications, mark_notification_read], tags=["notifications"])
