"""Holds and placements in households: capacity under concurrency, and homes that cannot take anyone."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from caregivers.households.models import Household
from placement.core.resources import Resources
from placement.core.uow import unit_of_work
from placement.placements.models import Placement
from tests.caregivers.factories import hold_in_home, make_household
from tests.conftest import FakeClock
from tests.factories import API, make_youth


async def test_forty_racing_holds_never_fill_a_home_past_its_capacity(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    homes = [await make_household(resources.sessionmaker, capacity=2) for _ in range(2)]
    youth = [await make_youth(client, caseworker) for _ in range(40)]
    responses = await asyncio.gather(
        *(hold_in_home(client, staff, y, homes[i % 2]) for i, y in enumerate(youth))
    )
    assert Counter(r.status_code for r in responses) == {201: 4, 409: 36}
    assert all(
        "full" in r.json()["detail"] or "just held" in r.json()["detail"]
        for r in responses
        if r.status_code == 409
    )
    async with resources.sessionmaker() as session:
        live = await session.execute(
            select(Placement.household_id, func.count())
            .where(Placement.status.in_(("held", "active")))
            .group_by(Placement.household_id)
        )
        assert sorted(count for _, count in live) == [2, 2]
    detail = await client.get(f"{API}/households/{homes[0]}", headers=staff.headers)
    assert detail.json()["free_places"] == 0


@pytest.mark.parametrize(
    ("home", "detail"),
    [
        ({"availability": "paused", "paused_until": "2099-01-01"}, "paused until 2099-01-01"),
        ({"availability": "closed"}, "closed"),
        ({"licence_status": "suspended"}, "licence"),
        ({"licence_expires_on": "2020-01-01"}, "licence"),
        ({"licence_status": "pending", "licence_expires_on": None}, "licence"),
    ],
)
async def test_a_paused_closed_or_unlicensed_home_refuses_a_hold(
    home: dict[str, Any], detail: str, client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    fields = {k: date.fromisoformat(v) if k.endswith(("_on", "_until")) and v else v for k, v in home.items()}
    household = await make_household(resources.sessionmaker, **fields)
    response = await hold_in_home(client, staff, await make_youth(client, caseworker), household)
    assert response.status_code == 409 and detail in response.json()["detail"]
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_pause_that_has_ended_no_longer_keeps_children_away(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    household = await make_household(
        resources.sessionmaker, availability="paused", paused_until=clock.now.date()
    )
    response = await hold_in_home(client, staff, await make_youth(client, caseworker), household)
    assert response.status_code == 201, response.text
    assert response.json()["household_id"] == str(household) and response.json()["bed_id"] is None


async def test_a_kin_home_takes_only_the_youth_related_to_it(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    related, stranger = await make_youth(client, caseworker), await make_youth(client, caseworker)
    created = await client.post(
        f"{API}/households",
        json={
            "name": "Grandmother Okafor",
            "kind": "kin",
            "licence_status": "provisional",
            "licence_expires_on": "2030-01-01",
            "capacity": 1,
            "min_age": 0,
            "max_age": 21,
            "genders": ["female", "male"],
            "municipality_id": str(uuid.UUID(related["origin_municipality_id"])),
            "street_address": "3 Kin Street, Worcester, MA",
            "lat": 42.27,
            "lon": -71.80,
            "related_youth_ids": [related["id"]],
        },
        headers=staff.headers,
    )
    household = uuid.UUID(created.json()["id"])
    refused = await hold_in_home(client, staff, stranger, household)
    assert refused.status_code == 422 and "related" in refused.json()["detail"]
    held = await hold_in_home(client, staff, related, household)
    assert held.status_code == 201, held.text


async def test_a_cancelled_hold_frees_the_place_and_a_placement_names_its_home(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    household = await make_household(resources.sessionmaker, capacity=1, name="The Nguyen household")
    first, second = await make_youth(client, caseworker), await make_youth(client, caseworker)
    held = (await hold_in_home(client, staff, first, household)).json()
    assert held["household"] == "The Nguyen household" and held["safe_house"] is None
    assert (await hold_in_home(client, staff, second, household)).status_code == 409
    cancelled = await client.post(
        f"{API}/placements/{held['id']}/cancel", json={"reason": "youth_declined"}, headers=staff.headers
    )
    assert cancelled.status_code == 200
    assert (await hold_in_home(client, staff, second, household)).status_code == 201
    listed = await client.get(f"{API}/placements?household_id={household}", headers=staff.headers)
    assert listed.json()["total"] == 2


async def test_a_hold_names_exactly_one_of_a_bed_and_a_household(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    youth = await make_youth(client, caseworker)
    neither = await client.post(f"{API}/placements", json={"youth_id": youth["id"]}, headers=staff.headers)
    both = await client.post(
        f"{API}/placements",
        json={"youth_id": youth["id"], "household_id": str(uuid.uuid4()), "bed_id": str(uuid.uuid4())},
        headers=staff.headers,
    )
    unknown = await hold_in_home(client, staff, youth, uuid.uuid4())
    assert (neither.status_code, both.status_code, unknown.status_code) == (422, 422, 422)


async def test_an_expired_hold_in_a_home_does_not_keep_its_place(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    household = await make_household(resources.sessionmaker, capacity=1)
    first, second = await make_youth(client, caseworker), await make_youth(client, caseworker)
    soon = (clock.now + timedelta(minutes=5)).isoformat()
    response = await client.post(
        f"{API}/placements",
        json={"youth_id": first["id"], "household_id": str(household), "held_until": soon},
        headers=staff.headers,
    )
    assert response.status_code == 201
    clock.advance(minutes=6)
    assert (await hold_in_home(client, staff, second, household)).status_code == 201


@pytest.mark.parametrize(
    "change", [{"licence_status": "suspended"}, {"availability": "closed"}], ids=["suspended", "closed"]
)
async def test_a_hold_in_a_home_that_stopped_taking_children_cannot_be_confirmed(
    change: dict[str, Any], client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    household = await make_household(resources.sessionmaker, name="The Baptiste household")
    held = (await hold_in_home(client, staff, await make_youth(client, caseworker), household)).json()
    async with unit_of_work(resources.sessionmaker) as session:
        await session.execute(update(Household).where(Household.id == household).values(**change))
    confirmed = await client.post(f"{API}/placements/{held['id']}/confirm", headers=staff.headers)
    assert confirmed.status_code == 409 and "The Baptiste household" in confirmed.json()["detail"]
    current = await client.get(f"{API}/placements/{held['id']}", headers=staff.headers)
    assert current.json()["status"] == "held"


async def test_a_safety_plan_that_excludes_a_home_refuses_a_hold_there(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    household = await make_household(resources.sessionmaker, name="The Walsh household")
    youth = await make_youth(client, caseworker, excluded_household_ids=[str(household)])
    assert youth["excluded_household_ids"] == [str(household)]
    refused = await hold_in_home(client, staff, youth, household)
    assert refused.status_code == 422 and "excludes The Walsh household" in refused.json()["detail"]
    unknown = await client.patch(
        f"{API}/youth/{youth['id']}",
        json={"excluded_household_ids": [str(uuid.uuid4())]},
        headers=caseworker.headers,
    )
    assert unknown.status_code == 422 and "no household" in unknown.json()["detail"]
