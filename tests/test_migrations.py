"""Alembic is the only way the schema changes: it goes up, all the way down, and up again."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg

from placement.core import migrate
from placement.core.settings import Settings, plain_postgres_url
from tests.conftest import fresh_database


async def tables(url: str) -> set[str]:
    conn = await asyncpg.connect(plain_postgres_url(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


def test_upgrade_downgrade_upgrade_round_trips(server_settings: Settings) -> None:
    assert server_settings.database_url
    with fresh_database(server_settings.database_url) as url:
        settings = replace(server_settings, database_url=url)
        migrate.upgrade(settings)
        created = asyncio.run(tables(url))
        assert {"audit_log", "users", "safe_houses", "beds", "youth", "placements"} <= created
        migrate.downgrade(settings, "base")
        assert asyncio.run(tables(url)) == {"alembic_version"}
        migrate.upgrade(settings)
        assert asyncio.run(tables(url)) == created
