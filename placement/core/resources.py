"""What the app, the worker and the CLI share at run time: settings, database, Redis, clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from placement.core.audit_sealer import AuditSealer
from placement.core.db import create_engine, create_sessionmaker
from placement.core.jobs import create_job_pool
from placement.core.offload import BACKGROUND_NICENESS, ProcessPool
from placement.core.security.token_cache import TokenCache
from placement.core.settings import Settings

SEALING_BACKSTOP_S = 0.5
"""How long an API process beside a worker lets an entry wait before sealing it itself."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def in_zone(clock: Callable[[], datetime], zone: ZoneInfo) -> Callable[[], datetime]:
    """The clock, telling the time in the program's zone: the same instants, and `.date()` is the
    program's day (a licence expiring today lapses at local midnight, not at UTC's)."""

    def now() -> datetime:
        return clock().astimezone(zone)

    return now


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: ArqRedis  # arq's pool is a redis.asyncio client: throttling uses it too
    sealer: AuditSealer
    clock: Callable[[], datetime] = field(default=utc_now)
    tokens: TokenCache = field(default_factory=TokenCache)
    offload: ProcessPool = field(default_factory=lambda: ProcessPool(1))
    """Solves someone waits on now: a match request's ranking, an explanation."""
    background: ProcessPool = field(default_factory=lambda: ProcessPool(1, BACKGROUND_NICENESS))
    """Batches: placement staff's long solves."""
    analysis: ProcessPool = field(default_factory=lambda: ProcessPool(1, BACKGROUND_NICENESS))
    """Program leads' solves: what-ifs and the unmet-need count, which never hold a batch up."""

    @classmethod
    async def open(
        cls, settings: Settings, clock: Callable[[], datetime] = utc_now, *, prompt_sealing: bool = True
    ) -> Resources:
        """The process's resources; `prompt_sealing=False` for an API process beside a worker,
        which leaves sealing to the worker's sealer and only backs it up (`AuditSealer`)."""
        engine = create_engine(settings)
        redis = await create_job_pool(settings)
        key = settings.audit_key.encode() if settings.audit_key else None
        backstop = None if prompt_sealing else SEALING_BACKSTOP_S
        audit_engine = create_engine(settings, pool_size=2)  # off the requests' pool
        sealer = AuditSealer(audit_engine, key, backstop=backstop)
        sessionmaker = create_sessionmaker(engine, key, sealer.nudge)
        return cls(
            settings,
            engine,
            sessionmaker,
            redis,
            sealer,
            in_zone(clock, settings.zone),
            offload=ProcessPool(settings.solver_processes),
            background=ProcessPool(1, BACKGROUND_NICENESS),
            analysis=ProcessPool(1, BACKGROUND_NICENESS),
        )

    async def close(self) -> None:
        """Stop the sealer, seal what this process recorded, then close the connections."""
        self.offload.close()
        self.background.close()
        self.analysis.close()
        await self.sealer.stop()
        try:
            await self.sealer.seal_before_exit()
        finally:
            await self.redis.aclose()
            await self.sealer.close()
            await self.engine.dispose()
