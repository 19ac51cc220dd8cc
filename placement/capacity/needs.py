"""Unmet need: for the youth awaiting now, how many have no feasible target and what blocks them,
by region. Counted by the matcher in a pool process; counts only, never a youth."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from placement.capacity.blocking import Need, UnmetNeed
from placement.capacity.counts import STATEWIDE, region_names
from placement.capacity.pooled import count_unmet_need
from placement.capacity.schemas import NeedRow, UnmetNeedOut
from placement.core.errors import Unavailable
from placement.core.resources import Resources


async def unmet_need_now(session: AsyncSession, resources: Resources) -> UnmetNeedOut:
    """Every region's row (zeros where no youth waits) and the statewide one."""
    now, settings = resources.clock(), resources.settings
    try:
        raw = await resources.analysis.run(
            count_unmet_need, settings.sqlalchemy_url, now, settings.readiness_counts_self_reported
        )
    except BrokenProcessPool:  # the process died (killed, out of memory): the next call starts anew
        raise Unavailable("The matcher's process stopped while counting; ask again.") from None
    need = msgspec.json.decode(raw, type=UnmetNeed)
    by_region = {n.region: n for n in need.regions}
    rows = [_row(name, by_region.get(name)) for _, name in await region_names(session)]
    return UnmetNeedOut(as_of=now, rows=rows, statewide=_row(STATEWIDE, need.statewide))


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
