"""Holds: no bed given twice, clear conflicts, idempotent creation, safety checks, expiry."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from arq.worker import Worker
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from placement.core.resources import Resources
from placement.placements.models import Placement
from placement.worker import worker_settings
from tests.conftest import FakeClock
from tests.factories import API, make_safe_house, make_youth


async def hold(
    client: httpx.AsyncClient, staff: Any, youth: dict[str, Any], bed_id: str, **extra: Any
) -> httpx.Response:
    body = {"youth_id": youth["id"], "bed_id": bed_id, **extra}
    return await client.post(f"{API}/placements", json=body, headers=staff.headers)


async def test_fifty_requests_racing_for_ten_beds_give_exactly_ten_holds(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    houses = [await make_safe_house(client, staff, beds=5) for _ in range(2)]
    beds = [b["id"] for h in houses for b in h["bed_list"]]
    youth = [await make_youth(client, staff, caseworker) for _ in range(50)]

    responses = await asyncio.gather(*(hold(client, staff, y, beds[i % 10]) for i, y in enumerate(youth)))

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 409: 40}, statuses
    for response in responses:
        if response.status_code == 409:
            problem = response.json()
            assert response.headers["content-type"].startswith("application/problem+json")
            assert problem["detail"].startswith("Bed B") and problem["bed_id"] in beds
    async with resources.sessionmaker() as session:
        live = (await session.scalars(select(Placement.bed_id).where(Placement.status == "held"))).all()
    assert sorted(map(str, live)) == sorted(beds)


async def test_a_taken_bed_is_refused_with_a_409_naming_it(client: httpx.AsyncClient, sign_in: Any) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1, name="Cedar Home")
    first, second = await make_youth(client, staff, caseworker), await make_youth(client, staff, caseworker)
    bed = house["bed_list"][0]["id"]
    assert (await hold(client, staff, first, bed)).status_code == 201
    refused = await hold(client, staff, second, bed)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "Bed B1 at Cedar Home is already held or occupied."


async def test_a_youth_holds_at_most_one_bed(client: httpx.AsyncClient, sign_in: Any) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=2)
    youth = await make_youth(client, staff, caseworker)
    assert (await hold(client, staff, youth, house["bed_list"][0]["id"])).status_code == 201
    again = await hold(client, staff, youth, house["bed_list"][1]["id"])
    assert again.status_code == 409 and "already has a held placement" in again.json()["detail"]


async def test_the_same_idempotency_key_returns_the_first_hold(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=2)
    youth = await make_youth(client, staff, caseworker)
    body = {"youth_id": youth["id"], "bed_id": house["bed_list"][0]["id"]}
    headers = {**staff.headers, "Idempotency-Key": "hold-7f3a"}
    first, repeat = await asyncio.gather(
        client.post(f"{API}/placements", json=body, headers=headers),
        client.post(f"{API}/placements", json=body, headers=headers),
    )
    assert first.status_code == repeat.status_code == 201
    assert first.json() == repeat.json()
    other_body = {**body, "bed_id": house["bed_list"][1]["id"]}
    reused = await client.post(f"{API}/placements", json=other_body, headers=headers)
    assert reused.status_code == 422 and "Idempotency-Key" in reused.json()["detail"]


async def test_a_hold_refuses_a_bed_the_safety_plan_rules_out(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1, name="Willow Place")
    bed = house["bed_list"][0]["id"]
    excluded = await make_youth(client, staff, caseworker, excluded_safe_house_ids=[house["id"]])
    in_zone = await make_youth(
        client,
        staff,
        caseworker,
        danger_zones=[
            {"lat": house["lat"] + 0.01, "lon": house["lon"], "radius_km": 5, "label": "exploiter"}
        ],
    )
    too_young = await make_youth(client, staff, caseworker, date_of_birth="2018-01-01")
    boy = await make_youth(client, staff, caseworker, gender="male")
    details = {}
    for name, youth in (("excluded", excluded), ("zone", in_zone), ("age", too_young), ("gender", boy)):
        refused = await hold(client, staff, youth, bed)
        assert refused.status_code == 422, refused.text
        details[name] = refused.json()["detail"]
    assert "excludes Willow Place" in details["excluded"]
    assert "danger zones (exploiter)" in details["zone"]
    assert "takes ages 12-18" in details["age"]
    assert "does not take male" in details["gender"]


async def test_hold_deadlines_must_be_in_the_future_and_not_too_far(
    client: httpx.AsyncClient, sign_in: Any, clock: FakeClock
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, staff, caseworker)
    bed = house["bed_list"][0]["id"]
    past = (clock.now - timedelta(hours=1)).isoformat()
    far = (clock.now + timedelta(days=30)).isoformat()
    assert (await hold(client, staff, youth, bed, held_until=past)).status_code == 422
    assert (await hold(client, staff, youth, bed, held_until=far)).status_code == 422


async def test_an_expired_hold_cannot_be_confirmed(
    client: httpx.AsyncClient, sign_in: Any, clock: FakeClock
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, staff, caseworker)
    held = (await hold(client, staff, youth, house["bed_list"][0]["id"])).json()
    clock.advance(hours=25)
    staff = await sign_in("placement_staff")  # the first sign-in has gone idle meanwhile
    late = await client.post(f"{API}/placements/{held['id']}/confirm", headers=staff.headers)
    assert late.status_code == 409 and "expired" in late.json()["detail"]


async def test_the_cron_job_expires_overdue_holds_and_frees_the_bed(
    client: httpx.AsyncClient, sign_in: Any, clock: FakeClock, resources: Resources, settings: Any
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=2)
    youth = [await make_youth(client, staff, caseworker) for _ in range(2)]
    short = (clock.now + timedelta(hours=1)).isoformat()
    overdue = (await hold(client, staff, youth[0], house["bed_list"][0]["id"], held_until=short)).json()
    current = (await hold(client, staff, youth[1], house["bed_list"][1]["id"])).json()
    clock.advance(hours=2)

    worker = Worker(**{**worker_settings(settings, resources), "burst": True, "poll_delay": 0.05})
    await worker.async_run()
    await worker.close()
    staff = await sign_in("placement_staff")  # the first sign-in has gone idle meanwhile

    expired = await client.get(f"{API}/placements/{overdue['id']}", headers=staff.headers)
    assert expired.json()["status"] == "expired" and expired.json()["close_reason"] == "hold_expired"
    assert (await client.get(f"{API}/placements/{current['id']}", headers=staff.headers)).json()[
        "status"
    ] == "held"
    detail = (await client.get(f"{API}/safe-houses/{house['id']}", headers=staff.headers)).json()
    assert [b["status"] for b in detail["bed_list"]] == ["available", "held"]


async def test_cancelling_a_hold_needs_a_reason_from_the_list(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, staff, caseworker)
    held = (await hold(client, staff, youth, house["bed_list"][0]["id"])).json()
    url = f"{API}/placements/{held['id']}/cancel"
    assert (
        await client.post(url, json={"reason": "changed my mind"}, headers=staff.headers)
    ).status_code == 400
    assert (await client.post(url, json={"reason": "other"}, headers=staff.headers)).status_code == 422
    cancelled = await client.post(url, json={"reason": "youth_declined"}, headers=staff.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = await client.post(url, json={"reason": "youth_declined"}, headers=staff.headers)
    assert again.status_code == 409


async def test_caseworkers_see_only_placements_of_their_own_youth(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, mine, theirs = (
        await sign_in("placement_staff"),
        await sign_in("caseworker"),
        await sign_in("caseworker"),
    )
    house = await make_safe_house(client, staff, beds=2)
    own = await make_youth(client, staff, mine)
    other = await make_youth(client, staff, theirs)
    mine_held = (await hold(client, staff, own, house["bed_list"][0]["id"])).json()
    other_held = (await hold(client, staff, other, house["bed_list"][1]["id"])).json()
    listed = (await client.get(f"{API}/placements", headers=mine.headers)).json()
    assert [p["id"] for p in listed["items"]] == [mine_held["id"]]
    assert (await client.get(f"{API}/placements/{other_held['id']}", headers=mine.headers)).status_code == 404


async def test_a_hold_past_its_deadline_frees_the_bed_before_the_worker_expires_it(
    client: httpx.AsyncClient, sign_in: Any, clock: FakeClock
) -> None:
    """Placed two hours ago for one hour (the service's clock set back; the database's is not)."""
    clock.advance(hours=-2)
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, staff, caseworker)
    held = await hold(
        client,
        staff,
        youth,
        house["bed_list"][0]["id"],
        held_until=(clock.now + timedelta(hours=1)).isoformat(),
    )
    assert held.status_code == 201 and held.json()["status"] == "held"
    free = (await client.get(f"{API}/beds/available", headers=staff.headers)).json()
    assert [b["bed_id"] for b in free["items"]] == [house["bed_list"][0]["id"]]
    detail = (await client.get(f"{API}/safe-houses/{house['id']}", headers=staff.headers)).json()
    assert detail["bed_list"][0]["status"] == "available"
    assert (await client.get(f"{API}/youth/{youth['id']}", headers=staff.headers)).json()[
        "status"
    ] == "awaiting"


async def test_the_database_refuses_a_second_live_placement_for_a_bed(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    """Past every check in the service, the partial unique index is the guard."""
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1)
    first, second = await make_youth(client, staff, caseworker), await make_youth(client, staff, caseworker)
    bed = uuid.UUID(house["bed_list"][0]["id"])
    async with resources.sessionmaker() as one, resources.sessionmaker() as two:
        for session, youth in ((one, first), (two, second)):
            session.add(
                Placement(
                    youth_id=uuid.UUID(youth["id"]),
                    bed_id=bed,
                    status="held",
                    held_until=clock.now + timedelta(hours=1),
                )
            )
        await one.commit()
        with pytest.raises(IntegrityError, match="uq_placements_live_bed"):
            await two.commit()
