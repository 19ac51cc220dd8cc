"""Instances a pool process loads for itself, off the event loop: a batch's, solved there too.

A batch loads every candidate (10,000 at the bench's scale): a Target built in Python per row, the
lot encoded as JSON and compressed, about a second of CPU before the solve begins. On the worker's
event loop that second would stall every request the process serves meanwhile (`placement serve`
runs the worker inline), so the pool process does it: it opens its own connection, reads the
instance in one snapshot, solves it, and hands back only what the worker stores.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from placement.matches import engine_calls
from placement.matches.loading import load_snapshot
from placement.matches.solving import Packed, pack
from placement.matching.schema import Instance


@dataclass(frozen=True, slots=True)
class JointAnswer:
    instance: Packed
    result: bytes  # the engine's Batch, as JSON


def load_and_solve_jointly(
    database_url: str,
    youth_ids: list[uuid.UUID],
    now: datetime,
    counts_self_reported: bool,
    effort: float,
    seconds: float,
) -> JointAnswer:
    """The youth `youth_ids` placed jointly among every candidate, as the database has them now."""
    body = msgspec.json.encode(read_instance(database_url, youth_ids, now, counts_self_reported))
    return JointAnswer(pack(body), engine_calls.solve_jointly(body, effort, seconds))


def read_instance(
    database_url: str, youth_ids: list[uuid.UUID] | None, now: datetime, counts_self_reported: bool
) -> Instance:
    """In a pool process: the youth `youth_ids` (None: every youth awaiting placement) and every
    candidate, read in one snapshot over a connection of the process's own."""
    return asyncio.run(_load(database_url, youth_ids, now, counts_self_reported))


async def _load(
    database_url: str, youth_ids: list[uuid.UUID] | None, now: datetime, counts_self_reported: bool
) -> Instance:
    engine = create_async_engine(database_url, poolclass=NullPool, hide_parameters=True)
    try:
        return await load_snapshot(async_sessionmaker(engine), youth_ids, now, counts_self_reported)
    finally:
        await engine.dispose()
