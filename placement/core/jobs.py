"""The job queue: arq on Redis."""

from __future__ import annotations

from arq.connections import ArqRedis, RedisSettings, create_pool

from placement.core.settings import Settings


def redis_settings(settings: Settings) -> RedisSettings:
    return RedisSettings.from_dsn(settings.redis)


async def create_job_pool(settings: Settings) -> ArqRedis:
    return await create_pool(redis_settings(settings))
