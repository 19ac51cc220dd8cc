"""Training coverage by region: households and their caregivers, how many caregivers finished each
caregiver series, homes ready per level of care, and completions that lapse within 90 days.

A caregiver has finished a series when a completion that counts today (as readiness counts them:
done, not expired, and verified unless the program counts self-reported ones) stands for every
module of it already published. A few set-based statements whatever the number of homes.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Integer, and_, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from caregivers.households.models import Caregiver, Household
from caregivers.training.models import Completion, TrainingModule, TrainingSeries
from caregivers.training.readiness import counts
from placement.capacity.counts import STATEWIDE, Reading, count_households
from placement.capacity.schemas import CoverageRow, ReadyHomes, TrainingCoverageOut
from placement.reference.models import Municipality
from placement.reference.places import region_names

EXPIRING_WITHIN_DAYS = 90


async def training_coverage(session: AsyncSession, reading: Reading) -> TrainingCoverageOut:
    regions = await region_names(session)
    homes = await count_households(session, "region", reading)
    people = await _caregivers(session, reading)
    finished = await _finished(session, reading)
    series = list(
        await session.scalars(select(TrainingSeries.code).where(TrainingSeries.audience == "caregiver"))
    )
    rows = [_row(key, name, homes, people, finished, series) for key, name in regions]
    return TrainingCoverageOut(
        as_of=reading.at, rows=rows, statewide=_row(None, STATEWIDE, homes, people, finished, series)
    )


async def _caregivers(session: AsyncSession, reading: Reading) -> dict[Any, tuple[int, int]]:
    """Per region (None: statewide): caregivers, and their counting completions that lapse soon."""
    today = reading.at.date()
    renewal = aliased(Completion)
    renewed = (
        select(renewal.id)
        .where(
            renewal.caregiver_id == Completion.caregiver_id,
            renewal.module_id == Completion.module_id,
            or_(renewal.expires_on.is_(None), renewal.expires_on > Completion.expires_on),
            counts(today, reading.counts_self_reported, renewal),
        )
        .exists()
    )
    soon = (
        select(Completion.caregiver_id, func.count().label("lapsing"))
        .where(
            counts(today, reading.counts_self_reported),
            Completion.expires_on <= today + timedelta(days=EXPIRING_WITHIN_DAYS),
            ~renewed,  # a module done again, lasting longer, does not lapse
        )
        .group_by(Completion.caregiver_id)
        .subquery("lapsing")
    )
    region = Municipality.region_id
    found = await session.execute(
        select(
            region.label("key"),
            (func.grouping(region) == 1).label("total"),
            func.count().label("caregivers"),
            func.coalesce(func.sum(soon.c.lapsing), 0).cast(Integer).label("lapsing"),
        )
        .select_from(Caregiver)
        .join(Household, Household.id == Caregiver.household_id)
        .join(Municipality, Municipality.id == Household.municipality_id)
        .outerjoin(soon, soon.c.caregiver_id == Caregiver.id)
        .group_by(func.grouping_sets(tuple_(region), tuple_()))
    )
    return {None if row.total else row.key: (row.caregivers, row.lapsing) for row in found}


async def _finished(session: AsyncSession, reading: Reading) -> dict[Any, dict[str, int]]:
    """Per region (None: statewide): caregivers who finished each caregiver series."""
    today = reading.at.date()
    published = TrainingModule.available_from <= today
    modules = (
        select(TrainingModule.series_id, func.count().label("modules"))
        .where(published)
        .group_by(TrainingModule.series_id)
        .subquery("modules")
    )
    done = (
        select(
            Completion.caregiver_id,
            TrainingModule.series_id,
            func.count(func.distinct(Completion.module_id)).label("done"),
        )
        .join(TrainingModule, TrainingModule.id == Completion.module_id)
        .where(published, counts(today, reading.counts_self_reported))
        .group_by(Completion.caregiver_id, TrainingModule.series_id)
        .subquery("done")
    )
    region = Municipality.region_id
    found = await session.execute(
        select(
            region.label("key"),
            (func.grouping(region) == 1).label("total"),
            TrainingSeries.code,
            func.count().label("caregivers"),
        )
        .select_from(done)
        .join(modules, and_(modules.c.series_id == done.c.series_id, modules.c.modules == done.c.done))
        .join(TrainingSeries, TrainingSeries.id == done.c.series_id)
        .join(Caregiver, Caregiver.id == done.c.caregiver_id)
        .join(Household, Household.id == Caregiver.household_id)
        .join(Municipality, Municipality.id == Household.municipality_id)
        .where(TrainingSeries.audience == "caregiver")
        .group_by(func.grouping_sets(tuple_(region, TrainingSeries.code), tuple_(TrainingSeries.code)))
    )
    finished: dict[Any, dict[str, int]] = {}
    for row in found:
        finished.setdefault(None if row.total else row.key, {})[row.code] = row.caregivers
    return finished


def _row(
    key: Any,
    name: str,
    homes: dict[Any, Any],
    people: dict[Any, tuple[int, int]],
    finished: dict[Any, dict[str, int]],
    series: list[str],
) -> CoverageRow:
    home = homes.get(key, {})
    caregivers, lapsing = people.get(key, (0, 0))
    return CoverageRow(
        group=name,
        id=key,
        households=home.get("households", 0),
        caregivers=caregivers,
        finished_series={code: finished.get(key, {}).get(code, 0) for code in sorted(series)},
        ready_homes=ReadyHomes(**{level: home.get(level, 0) for level in ReadyHomes.__struct_fields__}),
        completions_lapsing_within_90_days=lapsing,
    )
