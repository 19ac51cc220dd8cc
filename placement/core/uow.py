"""The unit of work: one transaction, with its audit entries written just before the commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from placement.core import audit


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession],
    actor: audit.Actor = audit.SYSTEM,
    request_id: str | None = None,
) -> AsyncIterator[AsyncSession]:
    """Commit when the block ends cleanly (audit entries written first), roll back if it raises."""
    async with sessionmaker() as session:
        session.info.update(actor=actor, request_id=request_id)
        async with session.begin():
            yield session
            await audit.write_pending(session)
