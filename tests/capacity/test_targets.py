"""Capacity targets: where each stands now, its trend through the daily snapshots, on track or not."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from placement.capacity.history import start_of_day
from placement.capacity.models import CapacitySnapshot, CapacityTarget
from placement.capacity.targets import trend
from placement.core.audit import AuditEntry
from placement.core.resources import Resources
from placement.core.uow import unit_of_work
from tests.conftest import FakeClock, region_id
from tests.factories import API, make_safe_house


async def record_days(
    client: httpx.AsyncClient, resources: Resources, lead: Any, today: Any, in_service: dict[int, int]
) -> None:
    """Daily snapshots `days ago -> safe-house beds in service statewide`, the rest as now."""
    now = (await client.get(f"{API}/capacity", params={"by": "region"}, headers=lead.headers)).json()
    async with unit_of_work(resources.sessionmaker) as session:
        for ago, beds in in_service.items():
            counts = copy.deepcopy(now)
            counts["statewide"]["beds"] = {"available": beds, "held": 0, "occupied": 0, "out_of_service": 0}
            day = start_of_day(today - timedelta(days=ago), resources.settings.zone)
            session.add(
                CapacitySnapshot(
                    period="day", period_start=day, by="region", taken_at=day, source="live", counts=counts
                )
            )


def target(**fields: Any) -> dict[str, Any]:
    return {"title": "Safe-house capacity", "metric": "safe_house_beds", "scope": "statewide", **fields}


async def test_a_target_is_on_track_when_its_trend_reaches_the_value_by_the_due_date(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    await make_safe_house(client, staff, beds=4)  # today: 4 in service
    today = clock().date()
    await record_days(client, resources, lead, today, {3: 1, 2: 2, 1: 3})  # one more a day
    due = (today + timedelta(days=6)).isoformat()

    reachable = await client.post(
        f"{API}/capacity/targets", json=target(value=10, due_on=due), headers=lead.headers
    )
    beyond = await client.post(
        f"{API}/capacity/targets", json=target(value=11, due_on=due), headers=lead.headers
    )

    assert reachable.status_code == 201, reachable.text
    assert {
        k: reachable.json()[k]
        for k in ("current", "trend_per_day", "trend_days", "projected", "reached", "on_track")
    } == {
        "current": 4,
        "trend_per_day": 1.0,
        "trend_days": 4,
        "projected": 10,
        "reached": False,
        "on_track": True,
    }
    assert (beyond.json()["projected"], beyond.json()["on_track"]) == (10, False)
    listed = (await client.get(f"{API}/capacity/targets", headers=staff.headers)).json()["rows"]
    assert [row["value"] for row in listed] == [10, 11]


async def test_a_wait_target_is_reached_at_or_below_its_value_and_a_rising_trend_misses_it(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    lead = await sign_in("program_lead")
    today = clock().date()
    flat = target(metric="youth_awaiting", value=0, due_on=(today + timedelta(days=30)).isoformat())

    answer = (await client.post(f"{API}/capacity/targets", json=flat, headers=lead.headers)).json()

    assert (
        answer["direction"],
        answer["current"],
        answer["trend_per_day"],
        answer["reached"],
        answer["on_track"],
    ) == (
        "at_most",
        0,
        None,  # one day on record: no trend, the projection is today's value
        True,
        True,
    )


async def test_a_regional_target_reads_its_region_and_patching_its_value_moves_it_off_track(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    await make_safe_house(client, staff, beds=3)  # in Boston
    boston = region_id("Boston")
    body = target(
        scope="region",
        region_id=str(boston),
        value=3,
        due_on=(clock().date() + timedelta(days=5)).isoformat(),
    )
    made = (await client.post(f"{API}/capacity/targets", json=body, headers=lead.headers)).json()
    assert (made["place"], made["current"], made["on_track"]) == ("Boston", 3, True)

    patched = await client.patch(
        f"{API}/capacity/targets/{made['id']}", json={"value": 4}, headers=lead.headers
    )

    assert patched.status_code == 200, patched.text
    assert (patched.json()["value"], patched.json()["on_track"]) == (4, False)
    async with resources.sessionmaker() as session:
        actions = list(
            await session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == made["id"]))
        )
    assert sorted(actions) == ["create_target", "update_target"]


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"scope": "region"}, 422),  # no region named
        ({"region_id": str(region_id("Boston"))}, 422),  # statewide names no region
        ({"scope": "county", "county_id": str(uuid.uuid4())}, 422),  # no such county
        ({"metric": "beds_for_anyone"}, 400),
        ({"value": -1}, 400),
    ],
)
async def test_a_target_that_does_not_say_what_it_means_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, fields: dict[str, Any], status: int
) -> None:
    lead = await sign_in("program_lead")
    body = target(**{"value": 5, "due_on": "2030-01-01", **fields})
    answer = await client.post(f"{API}/capacity/targets", json=body, headers=lead.headers)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    async with resources.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(CapacityTarget)) == 0


async def test_only_program_leads_and_admins_set_targets_and_a_repeated_key_sets_one(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    body = target(value=5, due_on="2030-01-01")
    for role in ("placement_staff", "caseworker", "caregiver"):
        user = await sign_in(role)
        assert (
            await client.post(f"{API}/capacity/targets", json=body, headers=user.headers)
        ).status_code == 403
    admin = await sign_in("admin")
    headers = {**admin.headers, "Idempotency-Key": "target-1"}
    first = await client.post(f"{API}/capacity/targets", json=body, headers=headers)
    again = await client.post(f"{API}/capacity/targets", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    async with resources.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(CapacityTarget)) == 1


def test_the_trend_is_the_least_squares_slope_through_the_days_on_record() -> None:
    assert trend([(-2, 1.0), (-1, 3.0), (0, 5.0)]) == (2.0, 3)
    assert trend([(-2, 0.0), (-1, 2.0), (0, 1.0)]) == (0.5, 3)
    assert trend([(0, 7.0)]) == (None, 1)
