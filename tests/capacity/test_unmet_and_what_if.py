"""Unmet need and what-if through the API (a real worker answers the what-if), on a case whose
answer is known by hand:

- one bed in Boston (girls 12-18, trauma therapy and education);
- Ana, from Boston, needs trauma therapy: the bed fits her;
- Bea, from Boston, needs substance-use treatment: no candidate offers it;
- Cal, from Boston, is a boy: the bed takes girls;
- Dee, from Springfield (Western region), may be placed within 10 km: Boston is 130 km away.

Ana's urgency is 5; the others' 4.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from arq.worker import Worker
from sqlalchemy import select, update

from placement.capacity.models import CapacityWhatIf
from placement.core.resources import Resources
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from placement.matches.solving import sweep_lost_work
from placement.worker import worker_settings
from tests.conftest import FakeClock, SignedIn, municipality_id
from tests.factories import API, BOSTON, SPRINGFIELD, make_safe_house, make_youth

CAMBRIDGE = municipality_id("Middlesex", "Cambridge")


async def build_case(client: httpx.AsyncClient, sign_in: Any) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1, genders=["female"])
    girl = {"gender": "female", "origin_municipality_id": str(BOSTON)}
    await make_youth(client, staff, caseworker, **girl, required_services=["trauma_therapy"], urgency=5)
    await make_youth(client, staff, caseworker, **girl, required_services=["substance_use"], urgency=4)
    await make_youth(client, staff, caseworker, **girl | {"gender": "male"}, required_services=[], urgency=4)
    await make_youth(
        client,
        staff,
        caseworker,
        origin_municipality_id=str(SPRINGFIELD),
        required_services=[],
        max_distance_km=10,
    )


def zero_row(group: str) -> dict[str, Any]:
    return {
        "group": group,
        "awaiting": 0,
        "with_feasible_target": 0,
        "without_feasible_target": 0,
        "blocked_by": {},
        "missing_services": {},
    }


async def test_unmet_need_counts_who_has_no_feasible_target_and_what_blocks_them_by_region(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    await build_case(client, sign_in)
    lead = await sign_in("program_lead")

    answer = await client.get(f"{API}/capacity/unmet-need", headers=lead.headers)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["statewide"] == {
        "group": "statewide",
        "awaiting": 4,
        "with_feasible_target": 1,
        "without_feasible_target": 3,
        "blocked_by": {"distance": 1, "gender": 1, "services": 1},
        "missing_services": {"substance_use": 1},
    }
    rows = {row["group"]: row for row in body["rows"]}
    assert rows["Boston"] == {
        "group": "Boston",
        "awaiting": 3,
        "with_feasible_target": 1,
        "without_feasible_target": 2,
        "blocked_by": {"gender": 1, "services": 1},
        "missing_services": {"substance_use": 1},
    }
    assert rows["Western"] == {**zero_row("Western"), "awaiting": 1, "without_feasible_target": 1} | {
        "blocked_by": {"distance": 1}
    }
    assert all(row == zero_row(name) for name, row in rows.items() if name not in ("Boston", "Western"))


async def wait_for_answer(client: httpx.AsyncClient, lead: SignedIn, run_id: str) -> dict[str, Any]:
    for _ in range(600):
        found = (await client.get(f"{API}/capacity/what-if/{run_id}", headers=lead.headers)).json()
        if found["status"] in ("answered", "failed"):
            return dict(found)
        await asyncio.sleep(0.05)
    raise AssertionError("the what-if was not answered within 30 s")


async def test_a_what_if_adding_a_bed_with_the_missing_service_places_the_youth_who_lacked_it(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    await build_case(client, sign_in)
    lead = await sign_in("program_lead")
    scenario = {
        "new_beds": {
            "municipality_id": str(CAMBRIDGE),
            "beds": 1,
            "min_age": 12,
            "max_age": 18,
            "genders": ["female"],
            "services": ["substance_use"],
        }
    }

    asked = await client.post(f"{API}/capacity/what-if", json=scenario, headers=lead.headers)

    assert asked.status_code == 202, asked.text
    answer = await wait_for_answer(client, lead, asked.json()["id"])
    assert answer["status"] == "answered", answer["failure_reason"]
    assert (answer["households_trained"], answer["households_reopened"], answer["beds_added"]) == (0, 0, 1)
    assert answer["placed"] | {"group": None} == {
        "breakdown": "all",
        "group": None,
        "awaiting": 4,
        "placed_before": 1,
        "placed_after": 2,
        "blocked_before": None,
        "blocked_after": None,
        "youth": None,
    }
    placed = {
        (r["breakdown"], r["group"]): (r["awaiting"], r["placed_before"], r["placed_after"])
        for r in answer["rows"]
        if r["breakdown"] != "blocking"
    }
    assert placed == {
        ("urgency", "4"): (3, 0, 1),
        ("urgency", "5"): (1, 1, 1),
        ("region", "Boston"): (3, 1, 2),
        ("region", "Western"): (1, 0, 0),
    }
    moved = {
        (r["group"], r["blocked_before"], r["blocked_after"]): r["youth"]
        for r in answer["rows"]
        if r["breakdown"] == "blocking"
    }
    assert moved == {
        ("Boston", "services", "feasible"): 1,
        ("Boston", "gender", "gender"): 1,
        ("Western", "distance", "distance"): 1,
    }
    # Nothing real changed: the bed that a what-if added is in no count.
    now = (await client.get(f"{API}/capacity", headers=lead.headers)).json()
    assert now["statewide"]["beds"]["available"] == 1


@pytest.mark.parametrize(
    ("scenario", "status"),
    [
        ({}, 422),
        ({"training": {"region": "Atlantis"}}, 422),
        ({"reopening": {"region": "Nowhere"}}, 422),
        (
            {
                "new_beds": {
                    "municipality_id": str(municipality_id("Nowhere", "Nowhere")),
                    "beds": 1,
                    "min_age": 12,
                    "max_age": 18,
                    "genders": ["female"],
                }
            },
            422,
        ),
        (
            {
                "new_beds": {
                    "municipality_id": str(BOSTON),
                    "beds": 1,
                    "min_age": 18,
                    "max_age": 12,
                    "genders": ["female"],
                }
            },
            422,
        ),
        (
            {
                "new_beds": {
                    "municipality_id": str(BOSTON),
                    "beds": 1,
                    "min_age": 12,
                    "max_age": 18,
                    "genders": ["female"],
                    "services": ["juggling"],
                }
            },
            422,
        ),
        (
            {
                "new_beds": {
                    "municipality_id": str(BOSTON),
                    "beds": 0,
                    "min_age": 12,
                    "max_age": 18,
                    "genders": ["female"],
                }
            },
            400,
        ),
        ({"training": {"region": "Boston", "level": "expert"}}, 400),
    ],
)
async def test_a_scenario_that_names_nothing_real_is_refused_before_any_job(
    client: httpx.AsyncClient, sign_in: Any, scenario: dict[str, Any], status: int
) -> None:
    lead = await sign_in("program_lead")
    answer = await client.post(f"{API}/capacity/what-if", json=scenario, headers=lead.headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_what_if_whose_job_was_lost_mid_solve_is_answered_after_the_sweep(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, settings: Settings, clock: FakeClock
) -> None:
    await build_case(client, sign_in)
    lead = await sign_in("program_lead")
    asked = await client.post(f"{API}/capacity/what-if", json={"reopening": {}}, headers=lead.headers)
    run_id = uuid.UUID(asked.json()["id"])
    await resources.redis.flushdb()  # the job is lost with its worker, mid-solve
    async with unit_of_work(resources.sessionmaker) as session:
        await session.execute(
            update(CapacityWhatIf).where(CapacityWhatIf.id == run_id).values(status="solving")
        )
    clock.advance(minutes=5)  # past its lease

    swept = await sweep_lost_work(resources)
    worker = Worker(**worker_settings(settings, resources))
    running = asyncio.create_task(worker.async_run())
    try:
        answer = await wait_for_answer(client, lead, str(run_id))
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await asyncio.gather(worker.close(), return_exceptions=True)  # jobs the cancel stopped

    assert swept["what_ifs"] == 1
    assert answer["status"] == "answered"
    async with resources.sessionmaker() as session:
        assert await session.scalar(select(CapacityWhatIf.attempt).where(CapacityWhatIf.id == run_id)) == 2
