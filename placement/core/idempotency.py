"""`Idempotency-Key` on creating calls: the same key and body return the first result.

The key is claimed by inserting its row in the request's own transaction, so two requests racing
with one key serialise on the primary key: the second waits, then replays what the first stored.
If the first fails, its claim rolls back with it and the key is free again.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy import DateTime, LargeBinary, String, func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.db import Base
from placement.core.errors import DomainError, Unprocessable

T = TypeVar("T")
MAX_KEY_LENGTH = 200


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    body_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InvalidKey(DomainError):
    status = 400


async def once(
    session: AsyncSession,
    user_id: uuid.UUID,
    key: str | None,
    endpoint: str,
    body: msgspec.Struct,
    result_type: type[T],
    create: Callable[[], Awaitable[T]],
) -> T:
    """Run `create` once per (user, key); a repeat with the same body gets the stored result."""
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
        if first.endpoint != endpoint or first.body_hash != body_hash or first.response is None:
            raise Unprocessable(
                "This Idempotency-Key was already used with a different request; use a new key."
            )
        return msgspec.convert(first.response, result_type)
    result = await create()
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
        .values(response=msgspec.to_builtins(result))
    )
    return result


@dataclass(frozen=True, slots=True)
class IdempotentCreate:
    """A creating call's `Idempotency-Key`, bound to its session, user and path (injected)."""

    session: AsyncSession
    user_id: uuid.UUID
    key: str | None
    endpoint: str

    async def __call__(
        self, body: msgspec.Struct, result_type: type[T], create: Callable[[], Awaitable[T]]
    ) -> T:
        return await once(self.session, self.user_id, self.key, self.endpoint, body, result_type, create)
