"""Alembic is the only way the schema changes: it goes up, all the way down, and up again."""

from __future__ import annotations

import asyncio

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from placement.core import migrate
from placement.core.databases import throwaway_database
from placement.core.settings import Settings, plain_postgres_url
from placement.models import Base

SCHEMA_OBJECTS = """
SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint ' || conname || ' on ' || conrelid::regclass || ': ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
"""


async def first_column(url: str, query: str) -> set[str]:
    conn = await asyncpg.connect(plain_postgres_url(url))
    try:
        return {row[0] for row in await conn.fetch(query)}
    finally:
        await conn.close()


async def schema_objects(url: str) -> set[str]:
    """Every index and constraint, as PostgreSQL itself writes them out (conditions included)."""
    return await first_column(url, SCHEMA_OBJECTS)


async def create_from_models(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


async def tables(url: str) -> set[str]:
    return await first_column(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")


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


def test_the_migrations_build_exactly_the_schema_the_models_describe(settings: Settings) -> None:
    """No drift: autogenerate against the migrated test database finds nothing to add or drop."""

    async def differences() -> list[object]:
        engine = create_async_engine(settings.sqlalchemy_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
                )
        finally:
            await engine.dispose()

    assert asyncio.run(differences()) == []


def test_the_migrations_build_the_indexes_and_constraints_the_models_describe(
    server_settings: Settings, settings: Settings
) -> None:
    """Autogenerate does not compare an index's condition or a check constraint's expression: a
    database built from the models must have the very same ones as the migrated test database."""
    assert settings.database_url
    with throwaway_database(server_settings, "placement_models") as from_models:
        assert from_models.database_url
        asyncio.run(create_from_models(from_models.sqlalchemy_url))
        described = asyncio.run(schema_objects(from_models.database_url))
    migrated = asyncio.run(schema_objects(settings.database_url))
    assert migrated - {o for o in migrated if "alembic_version" in o} == described
