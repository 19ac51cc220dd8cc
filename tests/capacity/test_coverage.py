"""`GET /capacity/training`: caregivers who finished each series, ready homes and lapsing
completions by region, against what the test recorded for each caregiver."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from caregivers.training.catalog import EXPLOITATION, TRAUMA_BASICS
from caregivers.training.models import Completion, TrainingModule
from placement.core.resources import Resources
from placement.core.uow import unit_of_work
from tests.caregivers.factories import make_caregiver, make_household
from tests.caregivers.training_factories import complete
from tests.conftest import FakeClock
from tests.factories import API, BOSTON, WORCESTER

NINE = [EXPLOITATION.module_code(n) for n in range(1, len(EXPLOITATION.modules) + 1)]
BASICS = [TRAUMA_BASICS.module_code(n) for n in range(1, len(TRAUMA_BASICS.modules) + 1)]


async def test_training_coverage_counts_finished_series_ready_homes_and_lapsing_completions(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    done_on = clock().date() - timedelta(days=60)
    worcester = await make_household(resources.sessionmaker, municipality_id=WORCESTER)
    boston = await make_household(resources.sessionmaker, municipality_id=BOSTON)
    trained = await make_caregiver(resources.sessionmaker, worcester)  # primary: every module, verified
    await complete(resources.sessionmaker, trained, NINE + BASICS, done_on, verified_by=staff.id)
    partly = await make_caregiver(resources.sessionmaker, worcester, role="secondary")  # basics, four of nine
    await complete(resources.sessionmaker, partly, BASICS + NINE[:4], done_on, verified_by=staff.id)
    # The primary did part one once before, long ago: that completion lapses soon, but it was
    # renewed by the one above, so nothing of theirs is about to lapse.
    await complete(
        resources.sessionmaker, trained, NINE[:1], done_on - timedelta(days=900), verified_by=staff.id
    )
    async with unit_of_work(resources.sessionmaker) as session:
        await session.execute(
            update(Completion)
            .where(Completion.caregiver_id == trained, Completion.completed_on < done_on)
            .values(expires_on=clock().date() + timedelta(days=20))
        )
    unverified = await make_caregiver(resources.sessionmaker, boston)  # all nine, self-reported only
    await complete(resources.sessionmaker, unverified, NINE, done_on, verified_by=None)
    async with unit_of_work(resources.sessionmaker) as session:  # the secondary's basics lapse in 30 days
        await session.execute(
            update(Completion)
            .where(
                Completion.caregiver_id == partly, Completion.module_id.in_(await module_ids(session, BASICS))
            )
            .values(expires_on=clock().date() + timedelta(days=30))
        )

    answer = await client.get(f"{API}/capacity/training", headers=lead.headers)

    assert answer.status_code == 200, answer.text
    rows = {row["group"]: row for row in answer.json()["rows"]}
    central = {
        "households": 1,
        "caregivers": 2,
        "finished_series": {"exploitation": 1, "trauma-basics": 2},
        "ready_homes": {"standard": 1, "trafficking_specialized": 1},
        "completions_lapsing_within_90_days": len(BASICS),
    }
    assert without_place(rows["Central"]) == central
    assert without_place(rows["Boston"]) == {
        "households": 1,
        "caregivers": 1,
        "finished_series": {"exploitation": 0, "trauma-basics": 0},  # self-reported does not count
        "ready_homes": {"standard": 0, "trafficking_specialized": 0},
        "completions_lapsing_within_90_days": 0,
    }
    assert without_place(answer.json()["statewide"]) == {**central, "households": 2, "caregivers": 3}


def without_place(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("group", "id")}


async def module_ids(session: Any, codes: list[str]) -> list[uuid.UUID]:
    return list(await session.scalars(select(TrainingModule.id).where(TrainingModule.code.in_(codes))))
