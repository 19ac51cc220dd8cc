"""The database pool hands its connections out fairly, and lends them to driver statements cheaply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine

from placement.core.db import FairPool, create_engine, pooled_driver
from placement.core.handoff import HandOff, WaitedTooLong
from placement.core.settings import Settings, plain_postgres_url

CHECKOUTS = 8
ROUNDS = 25


@pytest.fixture
async def two_connections(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine whose pool holds two connections and waits at most half a second for one."""
    engine = create_engine(replace(settings, queue_wait_seconds=0.5), pool_size=2)
    yield engine
    await engine.dispose()


def fair_pool(engine: AsyncEngine) -> FairPool:
    pool = engine.sync_engine.pool
    assert isinstance(pool, FairPool)
    return pool


async def every_connection_opened(engine: AsyncEngine) -> FairPool:
    """Open both of the pool's connections and give them back: from now on the pool lends."""
    async with pooled_driver(engine), pooled_driver(engine):
        pass
    return fair_pool(engine)


async def test_a_connection_given_back_goes_to_the_longest_waiter_not_back_to_its_user(
    two_connections: AsyncEngine,
) -> None:
    """Each task checks out again the moment it gives its connection back. A queue that let it
    take the connection ahead of the waiter woken for it would starve the others past the wait."""
    served: list[int] = []

    async def checkouts(task: int) -> None:
        for _ in range(ROUNDS):
            async with two_connections.connect() as connection:
                await connection.execute(text("SELECT 1"))
            async with pooled_driver(two_connections) as driver:
                await driver.fetchval("SELECT 1")
            served.append(task)

    await asyncio.gather(*(checkouts(task) for task in range(CHECKOUTS)))
    assert len(served) == CHECKOUTS * ROUNDS
    # Turn and turn about: every task finishes its first round before any finishes its third.
    first_rounds = served[:CHECKOUTS]
    assert sorted(first_rounds) == list(range(CHECKOUTS)), first_rounds


async def test_a_checkout_that_waits_past_the_wait_is_the_engine_timeout(
    two_connections: AsyncEngine,
) -> None:
    async with pooled_driver(two_connections), pooled_driver(two_connections):
        with pytest.raises(PoolTimeout):
            async with pooled_driver(two_connections):
                pass
        with pytest.raises(PoolTimeout):
            async with two_connections.connect():
                pass
    assert fair_pool(two_connections).checkedout() == 0
    async with pooled_driver(two_connections) as driver:  # nothing was lost on the way
        assert await driver.fetchval("SELECT 1") == 1


async def test_a_lent_connection_counts_as_checked_out_until_it_is_given_back(
    two_connections: AsyncEngine,
) -> None:
    pool = await every_connection_opened(two_connections)
    async with pooled_driver(two_connections) as driver:
        assert pool.checkedout() == 1
        assert await driver.fetchval("SELECT 1") == 1
    assert pool.checkedout() == 0


async def test_a_connection_left_in_a_transaction_is_closed_not_lent_again(
    two_connections: AsyncEngine,
) -> None:
    await every_connection_opened(two_connections)
    async with pooled_driver(two_connections) as driver:
        await driver.execute("BEGIN")
        left = driver
    assert left.is_closed()
    async with pooled_driver(two_connections) as driver:
        assert not driver.is_in_transaction()
        assert await driver.fetchval("SELECT 1") == 1


async def test_every_waiter_is_turned_away_after_the_wait_and_the_line_goes_on() -> None:
    line: HandOff[str] = HandOff(wait=0.3)
    waiters = [asyncio.create_task(line.take()) for _ in range(3)]
    await asyncio.sleep(0.15)
    late = asyncio.create_task(line.take())  # due 150 ms after the others
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(result, WaitedTooLong) for result in results)
    assert not late.done()
    line.give("connection")
    assert await late == "connection"
    assert line.waiting == 0
    assert line.take_now() is None  # handed over, not kept


async def test_a_lent_connection_the_server_closed_is_reconnected_in_its_turn(
    two_connections: AsyncEngine, settings: Settings
) -> None:
    async with pooled_driver(two_connections) as first, pooled_driver(two_connections) as second:
        pids = [await driver.fetchval("SELECT pg_backend_pid()") for driver in (first, second)]
    outsider = await asyncpg.connect(plain_postgres_url(settings.sqlalchemy_url))
    try:
        await outsider.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", pids)
    finally:
        await outsider.close()
    await asyncio.sleep(0.2)  # the driver notices the server closed both
    async with pooled_driver(two_connections) as driver:
        assert await driver.fetchval("SELECT pg_backend_pid()") not in pids


async def test_a_lent_connection_is_given_back_even_if_closing_it_is_cancelled(
    two_connections: AsyncEngine,
) -> None:
    pool = await every_connection_opened(two_connections)

    async def fail_mid_statement() -> None:
        async with pooled_driver(two_connections) as driver:
            await driver.execute("SELECT pg_sleep(5)")

    task = asyncio.create_task(fail_mid_statement())
    await asyncio.sleep(0.2)
    task.cancel()  # the connection is closed on the way out...
    await asyncio.sleep(0)
    task.cancel()  # ...and the close itself is cancelled
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.checkedout() == 0
    async with pooled_driver(two_connections) as a, pooled_driver(two_connections) as b:
        assert await a.fetchval("SELECT 1") == await b.fetchval("SELECT 1") == 1
