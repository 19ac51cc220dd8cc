"""Throw-away databases on a server, for tests and benchmarks that must not touch real data."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import replace
from typing import Any

import asyncpg

from placement.core.settings import Settings, plain_postgres_url

Run = Callable[[Coroutine[Any, Any, None]], None]


def with_database(url: str, name: str) -> str:
    """The same server URL, naming database `name` (query string kept)."""
    base, _, query = url.partition("?")
    server = base.rsplit("/", 1)[0]
    return f"{server}/{name}" + (f"?{query}" if query else "")


async def run_admin_sql(url: str, sql: str) -> None:
    conn = await asyncpg.connect(plain_postgres_url(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def throwaway_database(settings: Settings, prefix: str, run: Run = asyncio.run) -> Iterator[Settings]:
    """Create `<prefix>_<random>` on the settings' server; yield settings naming it; drop it after.

    `run` drives the admin coroutines: `asyncio.run`, or a running `asyncio.Runner`'s `run`.
    """
    server = settings.database_url
    assert server is not None, "no database server configured"
    name = f"{prefix}_{secrets.token_hex(6)}"
    run(run_admin_sql(server, f'CREATE DATABASE "{name}"'))
    try:
        yield replace(settings, database_url=with_database(server, name))
    finally:
        run(run_admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
