"""What the audit trail holds about a user, for tests that check a refusal was recorded."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from placement.core.audit import AuditEntry
from placement.core.resources import Resources


async def denials(resources: Resources, user_id: uuid.UUID) -> list[tuple[str, int | None]]:
    """(action, status) of each refusal recorded for the user."""
    async with resources.sessionmaker() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.actor_id == user_id, AuditEntry.outcome == "denied")
        )
        return [(e.action, e.status) for e in rows]
