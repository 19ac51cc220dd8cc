"""The matcher's instance, loaded from the database: every candidate as the engine needs it, in a
fixed number of statements."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from caregivers.households.models import HouseholdYouth
from placement.core.resources import Resources
from placement.matches.loading import Candidates, load_instance
from placement.matching.arrays import compile_targets
from placement.matching.rank import rank
from placement.matching.schema import Instance, Ranking
from tests.caregivers.factories import hold_in_home, make_caregiver, make_household
from tests.caregivers.training_factories import SPECIALIZED, complete
from tests.conftest import FakeClock
from tests.factories import API, make_safe_house, make_youth
from tests.statements import counted_statements


async def test_the_instance_holds_free_beds_and_every_household_as_the_engine_needs_them(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=2)
    held_bed, free_bed = (bed["id"] for bed in house["bed_list"])
    youth = await make_youth(client, caseworker, danger_zones=[{"lat": 42.0, "lon": -71.5, "radius_km": 3}])
    other = await make_youth(client, caseworker)
    await client.post(
        f"{API}/placements", json={"youth_id": other["id"], "bed_id": held_bed}, headers=staff.headers
    )
    make = resources.sessionmaker
    ready = await make_household(make, capacity=2, name="Ready")
    await complete(
        make,
        await make_caregiver(make, ready),
        SPECIALIZED,
        clock.now.date() - timedelta(days=5),
        verified_by=staff.id,
    )
    paused = await make_household(make, availability="paused", paused_until=date(2099, 1, 1))
    kin = await make_household(make, kind="kin", licence_status="pending", licence_expires_on=None)
    async with resources.sessionmaker() as session:
        session.add(HouseholdYouth(household_id=kin, youth_id=uuid.UUID(youth["id"])))
        await session.commit()
    third = await make_youth(client, caseworker)
    held = await hold_in_home(client, staff, third, ready)
    assert held.status_code == 201, held.text

    async with resources.sessionmaker() as session:
        instance = await load_instance(session, [uuid.UUID(youth["id"])], resources.clock(), False)
    targets = {t.id: t for t in instance.targets}
    assert free_bed in targets and held_bed not in targets
    assert targets[free_bed].safe_house_id == house["id"] and targets[free_bed].capacity == 1
    assert targets[str(ready)].ready_levels == ("standard", "trafficking_specialized")
    assert targets[str(ready)].capacity == 1  # one of its two places is held
    assert targets[str(paused)].availability == "paused" and targets[str(paused)].capacity == 2
    assert targets[str(kin)].related_youth == (youth["id"],) and targets[str(kin)].licensed_until is None
    [engine_youth] = instance.youth
    assert engine_youth.id == youth["id"] and engine_youth.danger_zones[0].radius_km == 3
    assert engine_youth.region and engine_youth.origin_lat == youth["origin_lat"]
    ranking = rank(
        instance.youth, compile_targets(instance.targets, instance.reference_date), instance.weights
    )
    proposed = {p.site_id for p in ranking.proposals}
    assert house["id"] in proposed  # its free bed
    assert str(paused) not in proposed and str(kin) not in proposed  # paused; kin but unlicensed


async def test_loading_takes_three_statements_however_many_candidates(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    caseworker = await sign_in("caseworker")
    youth = await make_youth(client, caseworker)
    counts = []
    for homes in (2, 20):
        for _ in range(homes):
            await make_caregiver(resources.sessionmaker, await make_household(resources.sessionmaker))
        async with resources.sessionmaker() as session:
            await session.connection()
            with counted_statements(resources) as statements:
                instance = await load_instance(session, [uuid.UUID(youth["id"])], resources.clock(), False)
        counts.append(len(statements))
    assert counts == [3, 3] and len(instance.targets) == 22


async def test_narrowed_loading_keeps_every_target_the_engine_could_propose_and_so_the_same_ranking(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    make = resources.sessionmaker
    variants: list[dict[str, Any]] = [
        {},
        {"genders": ["male"]},
        {"min_age": 17, "max_age": 20},
        {"services": ["education"]},
        {"lat": 42.1015, "lon": -72.5898},  # Springfield: 70-odd km from the youth
        {"lat": 42.6526, "lon": -73.2446},  # the far west: beyond the youth's maximum
    ]
    for variant in variants:
        await make_safe_house(client, staff, beds=2, **variant)
        await make_household(make, capacity=2, **variant)
    full_home = await make_household(make, capacity=1)
    await hold_in_home(client, staff, await make_youth(client, caseworker), full_home)
    youth = await make_youth(client, caseworker, max_distance_km=90)
    ids = [uuid.UUID(youth["id"])]
    async with make() as session:
        every = await load_instance(session, ids, resources.clock(), False)
        narrowed = await load_instance(
            session, ids, resources.clock(), False, candidates=Candidates(narrowed=True)
        )
    assert len(narrowed.targets) < len(every.targets)
    assert str(full_home) not in {t.id for t in narrowed.targets}

    def ranked(instance: Instance) -> Ranking:
        targets = compile_targets(instance.targets, instance.reference_date)
        return rank(instance.youth, targets, instance.weights, limit=100)

    assert ranked(narrowed).proposals == ranked(every).proposals
    assert len(ranked(every).proposals) >= 4
