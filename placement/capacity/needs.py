"""Unmet need: for the youth awaiting now, how many have no feasible target and what blocks them,
by region. Counted by the matcher in a pool process; counts only, never a youth.

A count is kept in Redis for `FRESH_SECONDS` and shared by every process: loading every awaiting
youth and candidate takes a tenth of a second at the demo's scale and seconds at the state's, too
much for every dashboard view. The answer's `as_of` says when it was counted.
"""

from __future__ import annotations

import contextlib
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

import msgspec
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity.blocking import Need, UnmetNeed
from placement.capacity.counts import STATEWIDE
from placement.capacity.pooled import count_unmet_need
from placement.capacity.schemas import NeedRow, UnmetNeedOut
from placement.core.errors import Unavailable
from placement.core.resources import Resources
from placement.reference.places import region_names

FRESH_SECONDS = 300
CACHE_KEY = "placement:capacity:unmet-need"


class Counted(msgspec.Struct):
    as_of: datetime
    need: UnmetNeed


async def unmet_need_now(session: AsyncSession, resources: Resources) -> UnmetNeedOut:
    """Every region's row (zeros where no youth waits) and the statewide one."""
    counted = await _recent(resources) or await _count(resources)
    by_region = {n.region: n for n in counted.need.regions}
    rows = [_row(name, by_region.get(name)) for _, name in await region_names(session)]
    return UnmetNeedOut(as_of=counted.as_of, rows=rows, statewide=_row(STATEWIDE, counted.need.statewide))


async def _recent(resources: Resources) -> Counted | None:
    try:
        kept = await resources.redis.get(CACHE_KEY)
    except (RedisError, OSError):
        return None
    return None if kept is None else msgspec.json.decode(kept, type=Counted)


async def _count(resources: Resources) -> Counted:
    now, settings = resources.clock(), resources.settings
    try:
        raw = await resources.analysis.run(
            count_unmet_need, settings.sqlalchemy_url, now, settings.readiness_counts_self_reported
        )
    except BrokenProcessPool:  # the process died (killed, out of memory): the next call starts anew
        raise Unavailable("The matcher's process stopped while counting; ask again.") from None
    counted = Counted(as_of=now, need=msgspec.json.decode(raw, type=UnmetNeed))
    with contextlib.suppress(RedisError, OSError):  # without Redis, the next view counts again
        await resources.redis.set(CACHE_KEY, msgspec.json.encode(counted), ex=FRESH_SECONDS)
    return counted


def _row(group: str, need: Need | None) -> NeedRow:
    if need is None:
        return NeedRow(
            group=group,
            awaiting=0,
            with_feasible_target=0,
            without_feasible_target=0,
            blocked_by={},
            missing_services={},
        )
    return NeedRow(
        group=group,
        awaiting=need.awaiting,
        with_feasible_target=need.with_feasible_target,
        without_feasible_target=need.without_feasible_target,
        blocked_by={b.rule: b.youth for b in need.blocking},
        missing_services={s.service: s.youth for s in need.missing_services},
    )
