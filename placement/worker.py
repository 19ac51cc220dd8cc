"""The arq worker: its jobs and cron schedule."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.typing import WorkerCoroutine

from caregivers.reminders.outbox import write_reminders
from placement.capacity.counts import reading_now
from placement.capacity.history import take_snapshot
from placement.capacity.trials import answer_what_if
from placement.core.idempotency import forget_old_keys
from placement.core.jobs import redis_settings
from placement.core.resources import Resources
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from placement.matches.batches import solve_batch
from placement.matches.solving import solve_request, sweep_lost_work
from placement.placements.service import expire_overdue_holds

log = logging.getLogger("placement.worker")
POLL_SECONDS = 0.02  # how soon a queued job starts: a caseworker waits on a match request's solve
JOB_TIMEOUT_SECONDS = 600
ObserveJob = Callable[[str, float], None]  # (function name, seconds)


async def expire_holds(ctx: dict[str, Any]) -> int:
    """Expire every hold past its deadline; safe to run twice."""
    resources: Resources = ctx["resources"]
    async with unit_of_work(resources.sessionmaker) as session:
        count = await expire_overdue_holds(session, resources.clock())
    if count:
        log.info("expired %d overdue hold(s)", count)
    return count


async def forget_idempotency_keys(ctx: dict[str, Any]) -> int:
    """Forget Idempotency-Keys older than a day."""
    resources: Resources = ctx["resources"]
    async with unit_of_work(resources.sessionmaker) as session:
        return await forget_old_keys(session, resources.clock())


async def write_daily_reminders(ctx: dict[str, Any]) -> int:
    """Write the reminders due today to the notifications outbox; safe to run twice, or on two
    workers at once (the outbox's unique key drops what is already written)."""
    resources: Resources = ctx["resources"]
    today = resources.clock().date()
    async with unit_of_work(resources.sessionmaker) as session:
        settings = resources.settings
        count = await write_reminders(session, today, settings.stale_after_days, settings.timezone)
    log.info("wrote %d reminder(s) due on %s", count, today)
    return count


async def solve_match_request(ctx: dict[str, Any], request_id: str, attempt: int) -> str:
    """Solve one attempt of a match request (ids only on the queue)."""
    return await solve_request(ctx["resources"], uuid.UUID(request_id), attempt)


async def solve_match_batch(ctx: dict[str, Any], batch_id: str, attempt: int) -> str:
    """Solve one attempt of a batch rematch."""
    return await solve_batch(ctx["resources"], uuid.UUID(batch_id), attempt)


async def sweep_matches(ctx: dict[str, Any]) -> dict[str, int]:
    """Enqueue again the match requests and batches whose solve was lost; expire old answers."""
    return await sweep_lost_work(ctx["resources"])


async def snapshot_capacity(ctx: dict[str, Any]) -> int:
    """Store this hour's capacity counts (and the day's first); safe to run twice, or on two
    workers at once (a period is stored once)."""
    resources: Resources = ctx["resources"]
    async with unit_of_work(resources.sessionmaker) as session:
        return await take_snapshot(session, reading_now(resources), resources.settings.zone)


async def try_what_if(ctx: dict[str, Any], run_id: str, attempt: int) -> str:
    """Answer one attempt of a program lead's what-if scenario."""
    return await answer_what_if(ctx["resources"], uuid.UUID(run_id), attempt)


async def warm_solvers(resources: Resources) -> None:
    """Start the solver pools beside the worker, each with the engine code it runs imported."""
    try:
        await asyncio.gather(
            resources.offload.warm("placement.matches.engine_calls"),
            resources.background.warm("placement.matches.joint"),
            resources.analysis.warm("placement.capacity.pooled"),
        )
    except Exception:  # a pool that failed to start starts again on its first solve
        log.exception("could not start the solver processes ahead of their first solve")


def timed(job: WorkerCoroutine, observe: ObserveJob | None) -> WorkerCoroutine:
    """The job, telling `observe` how long each run took (a failed run too)."""
    if observe is None:
        return job

    @functools.wraps(job)  # keeps the name arq knows the job by
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await job(ctx, *args, **kwargs)
        finally:
            observe(job.__qualname__, time.perf_counter() - started)

    return run


def worker_settings(
    settings: Settings, resources: Resources | None = None, observe_job: ObserveJob | None = None
) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker`: functions, cron, and the shared resources."""

    async def startup(ctx: dict[str, Any]) -> None:
        if resources is None:  # a worker of its own: it seals what its jobs record
            ctx["resources"] = await Resources.open(settings)
            ctx["resources"].sealer.start()
        else:
            ctx["resources"] = resources
        ctx["warming"] = asyncio.create_task(warm_solvers(ctx["resources"]))

    async def shutdown(ctx: dict[str, Any]) -> None:
        if resources is None:
            await ctx["resources"].close()

    redis: RedisSettings = redis_settings(settings)
    expire, forget = timed(expire_holds, observe_job), timed(forget_idempotency_keys, observe_job)
    remind = timed(write_daily_reminders, observe_job)
    solve, batch = timed(solve_match_request, observe_job), timed(solve_match_batch, observe_job)
    sweep, snapshot = timed(sweep_matches, observe_job), timed(snapshot_capacity, observe_job)
    what_if = timed(try_what_if, observe_job)
    return {
        "functions": [expire, forget, remind, solve, batch, sweep, snapshot, what_if],
        "cron_jobs": [
            cron(expire, second=0, unique=True, run_at_startup=True),
            cron(forget, minute=17, second=30, unique=True),
            cron(remind, hour=6, minute=5, unique=True),
            cron(sweep, second=30, unique=True, run_at_startup=True),
            cron(snapshot, minute=0, second=5, unique=True, run_at_startup=True),
        ],
        "redis_settings": redis,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "handle_signals": False,
        "health_check_interval": 60,
        "poll_delay": POLL_SECONDS,
        "job_timeout": JOB_TIMEOUT_SECONDS,
    }
