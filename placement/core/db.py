"""Database: declarative base, the engine and its pool, and connections used straight on the driver."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import DateTime, MetaData, event, func
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from placement.core.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), nullable=False
    )


def create_engine(settings: Settings, pool_size: int | None = None) -> AsyncEngine:
    """An engine with a fixed pool: a checkout that waits longer than the setting fails (503), and
    a connection the server closed while it sat in the pool is replaced, not handed out."""
    engine = create_async_engine(
        settings.sqlalchemy_url,
        pool_size=pool_size or settings.db_pool_size,
        max_overflow=0,  # a fixed pool: overflow connections would be opened and closed under load
        pool_timeout=settings.queue_wait_seconds,
        pool_pre_ping=False,
        echo=settings.echo_sql,
        hide_parameters=not settings.echo_sql,  # bound values are confidential: keep them out of logs
    )
    event.listen(engine.sync_engine.pool, "checkout", refuse_closed_connection)
    return engine


def refuse_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection the server has since closed (a restart, a terminated backend): the pool
    drops it and checks out another. The driver knows without a round trip, so no ping is paid;
    statements run on the driver are not seen by the engine's own disconnect handling."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def create_sessionmaker(
    engine: AsyncEngine, audit_key: bytes | None = None, audit_committed: Callable[[], None] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose `info` carries the audit key (to verify the chain) and what to call once a
    unit of work has committed audit entries (the sealer's nudge)."""
    return async_sessionmaker(
        engine,
        expire_on_commit=False,
        autoflush=True,
        info={"audit_key": audit_key, "audit_committed": audit_committed},
    )


async def driver_connection(session: AsyncSession, *, in_transaction: bool = True) -> asyncpg.Connection:
    """The asyncpg connection under the session, for a hot statement run straight through the driver.

    It is the session's own connection (no second checkout), inside the session's transaction: the
    engine begins that lazily, at its first statement, so it is begun here if the session has not
    executed anything yet. `in_transaction=False` skips that for a single read that needs none.
    """
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection
    if in_transaction and not driver.is_in_transaction():
        # The dialect's own lazy BEGIN, so its later COMMIT or ROLLBACK ends this transaction.
        await raw.dbapi_connection._start_transaction()  # type: ignore[union-attr]
    return driver


@asynccontextmanager
async def pooled_driver(
    engine: AsyncEngine, harmless: tuple[type[BaseException], ...] = ()
) -> AsyncIterator[asyncpg.Connection]:
    """A connection from the engine's pool (its size and wait), used straight on the driver: none
    of a session's cost. One left by anything but a `harmless` exception (a request cancelled
    mid-statement, a failure) is closed, not handed to its next user. A failure to connect is
    raised as the engine raises it (`DBAPIError`), which the raw pool does not do."""
    failure = engine.dialect.loaded_dbapi.Error
    try:
        pooled = await engine.raw_connection()
    except failure as refused:
        raise DBAPIError.instance(None, None, refused, failure, dialect=engine.dialect) from refused
    try:
        yield pooled.driver_connection
    except harmless:
        await hand_back(pooled)
        raise
    except BaseException:
        await greenlet_spawn(pooled.invalidate)
        raise
    await hand_back(pooled)


async def hand_back(pooled: PoolProxiedConnection) -> None:
    """Return a connection to the pool, unless it is left inside a transaction of the driver's,
    which the pool's reset would not see: then it is closed."""
    in_transaction = pooled.driver_connection.is_in_transaction()  # type: ignore[union-attr]
    await greenlet_spawn(pooled.invalidate if in_transaction else pooled.close)
