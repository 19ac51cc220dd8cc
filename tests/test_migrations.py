"""Alembic is the only way the schema changes: it goes up, all the way down, and up again."""

from __future__ import annotations

import asyncio

import asyncpg

from placement.core import migrate
from placement.core.databases import throwaway_database
from placement.core.settings import Settings, plain_postgres_url


async def tables(url: str) -> set[str]:
    conn = await asyncpg.connect(plain_postgres_url(url))
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


def test_upgrade_downgrade_upgrade_round_trips(server_settings: Settings) -> None:
    with throwaway_database(server_settings, "placement_migrations") as settings:
        assert settings.database_url
        url = settings.database_url
        migrate.upgrade(settings)
        created = asyncio.run(tables(url))
        assert {"audit_log", "users", "safe_houses", "beds", "youth", "placements"} <= created
        migrate.downgrade(settings, "base")
        assert asyncio.run(tables(url)) == {"alembic_version"}
        migrate.upgrade(settings)
        assert asyncio.run(tables(url)) == created
