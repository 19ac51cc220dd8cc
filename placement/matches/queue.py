"""The match jobs on the queue (ids and attempt numbers only, never a record's contents) and the
announcement that a request has its answer."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from arq.connections import ArqRedis
from redis.asyncio import Redis
from redis.exceptions import RedisError

from placement.core.settings import Settings
from placement.matching.limits import DEFAULT_SECONDS

SOLVE_REQUEST = "solve_match_request"
SOLVE_BATCH = "solve_match_batch"
TRY_WHAT_IF = "try_what_if"  # a program lead's scenario (placement.capacity.trials)
log = logging.getLogger("placement.matches")


async def enqueue(redis: ArqRedis, job: str, row_id: uuid.UUID, attempt: int) -> None:
    """Enqueue one attempt of a solve (call after the commit). If Redis is down the request,
    batch or what-if stays queued, and the sweep enqueues it again."""
    try:
        await redis.enqueue_job(job, str(row_id), attempt, _job_id=f"{job}:{row_id}:{attempt}")
    except (RedisError, OSError):
        log.warning("could not enqueue %s %s; the sweep will", job, row_id)


def lease_until(settings: Settings, now: datetime, *, joint_solves: int = 0) -> datetime:
    """When the sweep presumes a solve lost that was queued or begun `now`: after the setting's
    wait, and the engine's wall-clock cap on top for each joint solve it makes (a batch one, a
    what-if two; ranking one request takes no time to speak of)."""
    return now + timedelta(seconds=joint_solves * DEFAULT_SECONDS + settings.match_sweep_after_seconds)


def answered_channel(request_id: uuid.UUID) -> str:
    """Where a solve announces that a request has its answer (the message carries nothing else)."""
    return f"placement:match-request:{request_id}"


async def announce_answer(redis: Redis, request_id: uuid.UUID) -> None:
    try:
        await redis.publish(answered_channel(request_id), "answered")
    except (RedisError, OSError):
        log.warning("could not announce the answer to match request %s", request_id)
