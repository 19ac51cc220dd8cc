"""Database: declarative base, the engine and its pool, and connections used straight on the driver."""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import DateTime, MetaData, event, func
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util import await_, greenlet_spawn
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, Full

from placement.core.handoff import HandOff, WaitedTooLong
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


class FairQueue(AsyncAdaptedQueue[ConnectionPoolEntry]):
    """The pool's idle connections, handed out fairly (`placement.core.handoff`).

    SQLAlchemy's own queue lets a checkout that comes as a connection is returned take it ahead of
    the waiter woken for it, which goes back to the end of the line: under load a request could
    wait out the pool's whole timeout (503) while later ones were served, and each such turn cost
    a wake-up for nothing. It holds at most the pool's own connections, so a return never waits
    (a full queue raises Full, as SQLAlchemy's pool expects); every wait is the pool's timeout,
    given when the queue is made, and it is always first in, first out.
    """

    def __init__(self, maxsize: int, wait: float) -> None:
        super().__init__(maxsize)
        self._idle: HandOff[ConnectionPoolEntry] = HandOff(wait)

    def empty(self) -> bool:
        return self._idle.free == 0

    def full(self) -> bool:
        return 0 < self.maxsize <= self._idle.free

    def qsize(self) -> int:
        return self._idle.free

    def put_nowait(self, item: ConnectionPoolEntry) -> None:
        if self.full():
            raise Full()
        self._idle.give(item)

    def put(self, item: ConnectionPoolEntry, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)

    def take_now(self) -> ConnectionPoolEntry | None:
        """An idle connection, if nobody is waiting for one."""
        return self._idle.take_now()

    async def take(self) -> ConnectionPoolEntry:
        """An idle connection, in turn: outside the engine's greenlet. Raises WaitedTooLong."""
        return await self._idle.take()

    def get_nowait(self) -> ConnectionPoolEntry:
        return self.get(block=False)

    def get(self, block: bool = True, timeout: float | None = None) -> ConnectionPoolEntry:
        """Runs inside the engine's greenlet, which awaits the turn (the wait is the pool's own
        timeout, given when the queue was made)."""
        idle = self.take_now()
        if idle is not None:
            return idle
        if not block:
            raise Empty()
        try:
            return await_(self._idle.take())
        except WaitedTooLong:
            raise Empty() from None


class FairPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio pool, with its connections handed out in the order they were asked
    for, and lent straight from its idle ones to statements run on the driver (`pooled_driver`)."""

    _pool: FairQueue

    def __init__(self, creator: Any, pool_size: int = 5, timeout: float = 30.0, **kw: Any) -> None:
        super().__init__(creator, pool_size=pool_size, timeout=timeout, **kw)
        self._pool = FairQueue(pool_size, timeout)

    async def lend(self) -> ConnectionPoolEntry | None:
        """A connection ready for use, at once or in turn with the engine's checkouts, without
        them (and their greenlet): it counts as checked out until `take_back`. One that must be
        reconnected (closed by the server, or older than an invalidation of the whole pool) is
        reconnected, keeping its turn. None if the engine's own checkout is needed: the pool has
        yet to open all its connections, or pings them. Raises the engine's pool timeout, or the
        driver's error if reconnecting fails."""
        if self._pre_ping:
            return None
        record = self._pool.take_now()
        if record is None:
            if self._overflow < self._max_overflow:  # fewer open than the pool's size: open one
                return None
            try:
                record = await self._pool.take()
            except WaitedTooLong:
                raise PoolTimeout(f"no connection free within {self._timeout:g} s") from None
        if not self._ready(record):
            try:
                await greenlet_spawn(reconnect, record)
            except BaseException:
                await self.take_back(record)  # unconnected: its next user opens it
                raise
        return record

    async def take_back(self, record: ConnectionPoolEntry) -> None:
        """Return a lent connection; into a pool disposed of meanwhile (full again), close it."""
        if not self._pool.full():
            self._pool.put_nowait(record)
            return
        try:
            await greenlet_spawn(record.invalidate)
        finally:
            self._dec_overflow()

    def _ready(self, record: ConnectionPoolEntry) -> bool:
        """What the engine's checkout would check before handing it out."""
        connection = record.dbapi_connection
        started: float = record.starttime  # type: ignore[attr-defined]
        return (
            connection is not None
            and not connection.driver_connection.is_closed()
            and started >= self._invalidate_time
            and (self._recycle < 0 or time.time() - started <= self._recycle)
        )


def reconnect(record: ConnectionPoolEntry) -> None:
    """Close a pooled connection and open it afresh, as the engine's checkout does (in its greenlet)."""
    record.invalidate()
    record.get_connection()  # type: ignore[attr-defined]


def create_engine(settings: Settings, pool_size: int | None = None) -> AsyncEngine:
    """An engine with a fixed pool: a checkout that waits longer than the setting fails (503), and
    a connection the server closed while it sat in the pool is replaced, not handed out."""
    engine = create_async_engine(
        settings.sqlalchemy_url,
        poolclass=FairPool,
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
    mid-statement, a failure), or inside a transaction of the driver's that the pool's reset would
    not see, is closed, not handed to its next user. A failure to connect is raised as the engine
    raises it (`DBAPIError`), which the raw pool does not do.

    The pool lends its connection without the engine's checkout (on every audited read, that cost
    more than the statement); only one that must be opened or reconnected is the engine's to check out.
    """
    lease = await lent(engine) or await checked_out(engine)
    try:
        yield lease.driver
    except harmless:
        await lease.give_back()
        raise
    except BaseException:
        await lease.close()
        raise
    await lease.give_back()


class Lease(ABC):
    """A pooled connection in use on the driver: given back to the pool when done, unless it is
    left inside a transaction of the driver's, which the pool's reset would not see: then closed."""

    held: ConnectionPoolEntry | PoolProxiedConnection

    @property
    def driver(self) -> asyncpg.Connection:
        driver: asyncpg.Connection = self.held.driver_connection
        return driver

    async def give_back(self) -> None:
        if self.driver.is_in_transaction():
            await self.close()
        else:
            await self.return_to_pool()

    @abstractmethod
    async def return_to_pool(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Lent(Lease):
    """A connection lent by a `FairPool`."""

    pool: FairPool
    held: ConnectionPoolEntry

    async def return_to_pool(self) -> None:
        await self.pool.take_back(self.held)

    async def close(self) -> None:
        """Close it and put it back unconnected, for its next user to open (put back even if
        this task is cancelled meanwhile: the pool would otherwise be one connection short)."""
        try:
            await greenlet_spawn(self.held.invalidate)
        finally:
            await self.pool.take_back(self.held)


@dataclass(frozen=True, slots=True)
class CheckedOut(Lease):
    """A connection the engine checked out."""

    held: PoolProxiedConnection

    async def return_to_pool(self) -> None:
        await greenlet_spawn(self.held.close)

    async def close(self) -> None:
        await greenlet_spawn(self.held.invalidate)


async def lent(engine: AsyncEngine) -> Lent | None:
    pool = engine.sync_engine.pool
    if not isinstance(pool, FairPool):
        return None
    with failing_as_the_engine(engine):
        record = await pool.lend()
    return None if record is None else Lent(pool, record)


async def checked_out(engine: AsyncEngine) -> CheckedOut:
    """The engine's own checkout (it waits its turn, connects, and reconnects)."""
    with failing_as_the_engine(engine):
        return CheckedOut(await engine.raw_connection())


@contextmanager
def failing_as_the_engine(engine: AsyncEngine) -> Iterator[None]:
    """A failure to connect raised as the engine raises it (`DBAPIError`), not as the driver's."""
    failure = engine.dialect.loaded_dbapi.Error
    try:
        yield
    except failure as refused:
        raise DBAPIError.instance(None, None, refused, failure, dialect=engine.dialect) from refused
