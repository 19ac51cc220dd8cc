"""The unit of work: one transaction, its audit entries written just before the commit, and its
announcements made just after (the audit sealer's nudge among them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
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
            written = await audit.write_pending(session)
        recorded = written or session.info.pop("audit_recorded", False)
        if recorded and session.info["audit_committed"] is not None:
            session.info["audit_committed"]()
        for announce in session.info.pop("after_commit", []):
            await announce()


def after_commit(session: AsyncSession, announce: Callable[[], Awaitable[object]]) -> None:
    """Run `announce` once this unit of work has committed (never if it rolls back)."""
    session.info.setdefault("after_commit", []).append(announce)
