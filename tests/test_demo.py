"""`placement demo` data: every state the service shows appears, across the regions."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from sqlalchemy import func, select

from caregivers.households.models import Caregiver, Household, HouseholdYouth
from caregivers.training.models import Completion
from caregivers.training.readiness import readiness
from placement.core.resources import Resources
from placement.demo import DEMO_HOUSEHOLDS, demo_password, load_demo
from placement.placements.models import Placement
from placement.reference.models import Municipality, Region
from tests.factories import API


async def test_the_demo_loads_households_of_every_kind_and_state_across_the_regions(
    client: httpx.AsyncClient, resources: Resources
) -> None:
    await load_demo(resources)
    today = resources.clock().date()
    async with resources.sessionmaker() as session:
        homes = (await session.scalars(select(Household))).all()
        regions = await session.scalar(
            select(func.count(func.distinct(Region.id)))
            .select_from(Household)
            .join(Municipality, Municipality.id == Household.municipality_id)
            .join(Region, Region.id == Municipality.region_id)
        )
        kin_related = await session.scalar(select(func.count()).select_from(HouseholdYouth))
        linked = await session.scalar(select(func.count()).where(Caregiver.user_id.is_not(None)))
    assert len(homes) == DEMO_HOUSEHOLDS and regions == 5
    kinds = Counter(h.kind for h in homes)
    assert set(kinds) == {"foster", "kin", "intensive_foster", "biological"}
    assert kin_related == kinds["kin"] + kinds["biological"]
    assert {h.availability for h in homes} == {"open", "paused", "closed"}
    assert any(h.licence_expires_on and h.licence_expires_on < today for h in homes)
    assert any(h.capacity > 4 and h.capacity_waiver_reason for h in homes)
    assert linked == 1
    assert kinds["kin"] + kinds["biological"] > DEMO_HOUSEHOLDS // 5


async def test_the_demo_places_some_youth_in_homes_and_fills_a_few(resources: Resources) -> None:
    await load_demo(resources)
    async with resources.sessionmaker() as session:
        in_homes = (
            await session.execute(
                select(Placement.household_id, func.count())
                .where(Placement.household_id.is_not(None), Placement.status.in_(("held", "active")))
                .group_by(Placement.household_id)
            )
        ).all()
        capacity: dict[Any, int] = dict(
            (await session.execute(select(Household.id, Household.capacity))).all()
        )
    assert sum(count for _, count in in_homes) >= 10
    assert all(count <= capacity[home] for home, count in in_homes)
    assert any(count == capacity[home] for home, count in in_homes)


async def test_the_demo_caregiver_signs_in_and_sees_only_their_own_home(
    client: httpx.AsyncClient, resources: Resources
) -> None:
    await load_demo(resources)
    signed_in = await client.post(
        f"{API}/auth/login", json={"username": "caregiver", "password": demo_password("caregiver")}
    )
    headers: dict[str, Any] = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    homes = (await client.get(f"{API}/households", headers=headers)).json()
    assert [h["name"] for h in homes["items"]] == ["The Morgan household"]
    assert homes["items"][0]["street_address"]


async def test_the_demo_households_are_trained_to_every_degree(resources: Resources) -> None:
    await load_demo(resources)
    today = resources.clock().date()
    async with resources.sessionmaker() as session:
        ids = list(await session.scalars(select(Household.id)))
        found = await readiness(session, ids, today, counts_self_reported=False)
        unverified = await session.scalar(select(func.count()).where(Completion.verified_at.is_(None)))
        expired = await session.scalar(select(func.count()).where(Completion.expires_on < today))
    specialised = sum(levels[1].ready for levels in found.values())
    standard = sum(levels[0].ready for levels in found.values())
    part_way = sum(0 < levels[0].percent < 100 for levels in found.values())
    assert 0 < specialised < standard < len(ids)
    assert part_way > 0 and unverified and expired
