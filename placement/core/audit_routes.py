"""HTTP route for reading the audit trail (admins)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from litestar import Router, get
from litestar.params import Parameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core import audit
from placement.core.audit import AuditEntry, Outcome
from placement.core.schemas import Limit, Offset, Page, Schema
from placement.core.security.guards import allow


class AuditEntryOut(Schema):
    seq: int | None
    """The entry's place in the chain; null for a moment, until the sealer has chained it."""
    at: datetime
    actor_id: uuid.UUID | None
    actor: str
    role: str | None
    action: str
    entity: str
    entity_id: str | None
    outcome: str
    status: int | None
    request_id: str | None
    detail: dict[str, Any]
    hash: str | None


@get("/audit", opt=allow("admin", entity="audit"))
async def list_audit(
    session: AsyncSession,
    entity: Annotated[str | None, Parameter(max_length=60)] = None,
    entity_id: Annotated[str | None, Parameter(max_length=80)] = None,
    actor_id: uuid.UUID | None = None,
    outcome: Outcome | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AuditEntryOut]:
    """Audit entries, newest first."""
    return await read_audit(session, entity, entity_id, actor_id, outcome, limit, offset)


async def read_audit(
    session: AsyncSession,
    entity: str | None,
    entity_id: str | None,
    actor_id: uuid.UUID | None,
    outcome: Outcome | None,
    limit: int,
    offset: int,
) -> Page[AuditEntryOut]:
    """Audit entries matching every filter given, newest first; the read is itself audited.
    (`GET /audit` and the admins' audit page both read through here.)"""
    query = select(AuditEntry)
    for column, value in (
        (AuditEntry.entity, entity),
        (AuditEntry.entity_id, entity_id),
        (AuditEntry.actor_id, actor_id),
        (AuditEntry.outcome, outcome),
    ):
        if value is not None:
            query = query.where(column == value)
    entries, total = await audit.newest_first(session, query, limit, offset)
    items = [
        AuditEntryOut(
            seq=e.seq,
            at=e.at,
            actor_id=e.actor_id,
            actor=e.actor,
            role=e.role,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            outcome=e.outcome,
            status=e.status,
            request_id=e.request_id,
            detail=e.detail,
            hash=e.hash,
        )
        for e in entries
    ]
    audit.record(session, "read_audit", "audit", None, count=len(items))
    return Page(items=items, total=total, limit=limit, offset=offset)


router = Router(path="/", route_handlers=[list_audit], tags=["audit"])
