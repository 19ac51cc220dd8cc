"""`Idempotency-Key` on creating calls: the same key and body return what the first created.

The key is claimed by inserting its row in the request's own transaction, so two requests racing
with one key serialise on the primary key: the second waits, then reads back what the first
created. Only the created record's id is kept, and a replay reads the record afresh through the
service, so today's access checks and audit apply, and nothing confidential is stored twice.
If the first request fails, its claim rolls back with it and the key is free again. Keys are
forgotten after `KEEP_KEYS` (a worker job).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

import msgspec
from sqlalchemy import DateTime, LargeBinary, String, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.db import Base
from placement.core.errors import DomainError, Unprocessable

MAX_KEY_LENGTH = 200
KEEP_KEYS = timedelta(hours=24)


class Created(Protocol):
    id: uuid.UUID


T = TypeVar("T", bound=Created)


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    body_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )


class InvalidKey(DomainError):
    status = 400


async def once(
    session: AsyncSession,
    user_id: uuid.UUID,
    key: str | None,
    endpoint: str,
    body: msgspec.Struct,
    create: Callable[[], Awaitable[T]],
    reread: Callable[[uuid.UUID], Awaitable[T]],
) -> T:
    """Run `create` once per (user, key); a repeat with the same body gets `reread` of its id."""
    if key is None:
        return await create()
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidKey(f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters.")
    body_hash = hashlib.sha256(msgspec.json.encode(body)).digest()
    claimed = await session.scalar(
        insert(IdempotencyRecord)
        .values(user_id=user_id, key=key, endpoint=endpoint, body_hash=body_hash)
        .on_conflict_do_nothing()
        .returning(IdempotencyRecord.key)
    )
    if claimed is None:
        first = (
            await session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
                )
            )
        ).scalar_one()
        if first.endpoint != endpoint or first.body_hash != body_hash or first.created_id is None:
            raise Unprocessable(
                "This Idempotency-Key was already used with a different request; use a new key."
            )
        return await reread(first.created_id)
    result = await create()
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        .values(created_id=result.id)
    )
    return result


async def forget_old_keys(session: AsyncSession, now: datetime) -> int:
    """Delete keys older than `KEEP_KEYS`; returns how many."""
    gone = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - KEEP_KEYS)
    )
    return int(gone.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class IdempotentCreate:
    """A creating call's `Idempotency-Key`, bound to its session, user and path (injected)."""

    session: AsyncSession
    user_id: uuid.UUID
    key: str | None
    endpoint: str

    async def __call__(
        self,
        body: msgspec.Struct,
        create: Callable[[], Awaitable[T]],
        reread: Callable[[uuid.UUID], Awaitable[T]],
    ) -> T:
        return await once(self.session, self.user_id, self.key, self.endpoint, body, create, reread)
