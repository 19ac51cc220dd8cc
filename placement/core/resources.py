"""What the app, the worker and the CLI share at run time: settings, database, Redis, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from placement.core.db import create_engine, create_sessionmaker
from placement.core.jobs import create_job_pool
from placement.core.security.token_cache import TokenCache
from placement.core.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis  # arq's pool is a redis.asyncio client: throttling uses it too
    clock: Callable[[], datetime] = field(default=utc_now)
    tokens: TokenCache = field(default_factory=TokenCache)

    @classmethod
    async def open(cls, settings: Settings, clock: Callable[[], datetime] = utc_now) -> Resources:
        engine = create_engine(settings)
        redis = await create_job_pool(settings)
        sessionmaker = create_sessionmaker(
            engine, settings.audit_key.encode() if settings.audit_key else None
        )
        return cls(settings, engine, sessionmaker, redis, clock)

    async def close(self) -> None:
        await self.redis.aclose()
        await self.engine.dispose()
