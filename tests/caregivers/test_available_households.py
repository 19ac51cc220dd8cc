"""Homes that can take a child now; no household address reaches a role that may not see it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar

from placement.core.resources import Resources
from placement.reference.models import Municipality
from tests.caregivers.factories import hold_in_home, make_caregiver, make_household
from tests.caregivers.training_factories import BASICS, SPECIALIZED, complete
from tests.conftest import FakeClock, municipality_id
from tests.core.test_route_guards import http_routes
from tests.factories import API, make_youth

ADDRESS = "41 Unlisted Orchard Lane, Springfield, MA 01103"
LAT, LON = 42.10148, -72.58981
SPRINGFIELD = municipality_id("Hampden", "Springfield")


async def available(client: httpx.AsyncClient, user: Any, query: str = "") -> dict[str, Any]:
    response = await client.get(f"{API}/households/available{query}", headers=user.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_only_licensed_open_homes_with_a_free_place_confirmed_recently_are_available(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    staff = await sign_in("placement_staff")
    make = resources.sessionmaker
    ready = await make_household(make, name="A ready home")
    await make_household(make, name="Paused", availability="paused", paused_until=date(2099, 1, 1))
    await make_household(make, name="Closed", availability="closed")
    await make_household(make, name="Expired", licence_expires_on=clock.now.date() - timedelta(days=1))
    stale = await make_household(
        make,
        name="Stale",
        availability_confirmed_at=clock.now - timedelta(days=resources.settings.stale_after_days + 1),
    )
    ended_pause = await make_household(
        make, name="Pause over", availability="paused", paused_until=clock.now.date()
    )
    page = await available(client, staff)
    assert sorted(h["household_id"] for h in page["items"]) == sorted([str(ready), str(ended_pause)])
    with_stale = await available(client, staff, "?include_stale=true")
    assert str(stale) in {h["household_id"] for h in with_stale["items"]}


async def test_a_full_home_is_not_available_and_free_places_are_counted(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    household = await make_household(resources.sessionmaker, capacity=2)
    youth = await make_youth(client, caseworker)
    await hold_in_home(client, staff, youth, household)
    assert [h["free_places"] for h in (await available(client, staff))["items"]] == [1]
    other = await make_youth(client, caseworker)
    await hold_in_home(client, staff, other, household)
    assert (await available(client, staff))["total"] == 0


async def test_filters_and_nearest_first_mirror_free_beds(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    make = resources.sessionmaker
    near_home = await make_household(
        make, municipality_id=SPRINGFIELD, lat=LAT, lon=LON, kind="intensive_foster"
    )
    far_home = await make_household(make, min_age=0, max_age=5)
    by_distance = await available(client, staff, f"?near={LAT},{LON}")
    assert [h["household_id"] for h in by_distance["items"]] == [str(near_home), str(far_home)]
    assert by_distance["items"][0]["distance_km"] == 0.0
    banded = await available(client, caseworker, f"?near={LAT},{LON}")
    assert "distance_km" not in banded["items"][0] and banded["items"][0]["distance_band"]
    assert (await available(client, staff, "?kind=intensive_foster"))["total"] == 1
    assert (await available(client, staff, "?age=14"))["total"] == 1
    assert (await available(client, staff, f"?near={LAT},{LON}&within_km=10"))["total"] == 1
    refused = await client.get(
        f"{API}/households/available?near={LAT},{LON}&within_km=7", headers=caseworker.headers
    )
    assert refused.status_code == 422


def readable_urls(app: Litestar, ids: dict[str, str]) -> list[str]:
    """Every guarded GET route, each id in its path the record of that kind the test made (another
    record's id where it made none), and the searches once more with a point and a radius."""
    urls = []
    for method, path, handler in http_routes(app):
        if method != "GET" or handler.opt.get("public"):
            continue
        kind = path.removeprefix("/api/v1/").split("/")[0]
        urls.append(re.sub(r"\{id:uuid\}", ids.get(kind, ids["households"]), path))
    near = "near=42.1,-72.6&within_km=25"
    return [*urls, f"{API}/households/available?{near}", f"{API}/beds/available?{near}"]


@pytest.mark.parametrize("role", ["caseworker", "program_lead", "caregiver"])
async def test_no_household_address_or_position_reaches_a_role_that_may_not_see_it(
    role: str, app: Litestar, client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, user = await sign_in("placement_staff"), await sign_in(role)
    household = await make_household(
        resources.sessionmaker, municipality_id=SPRINGFIELD, street_address=ADDRESS, lat=LAT, lon=LON
    )
    person = await make_caregiver(resources.sessionmaker, household)
    if role == "caregiver":  # a caregiver of another household
        await make_caregiver(resources.sessionmaker, await make_household(resources.sessionmaker), user)
    caseworker = user if role == "caseworker" else await sign_in("caseworker")
    youth = await make_youth(client, caseworker)
    held = await hold_in_home(client, staff, youth, household)
    assert held.status_code == 201
    ids = {
        "households": str(household),
        "caregivers": str(person),
        "youth": youth["id"],
        "placements": held.json()["id"],
    }
    urls = readable_urls(app, ids)
    staff_bodies = [(await client.get(url, headers=staff.headers)).text for url in urls]
    assert len(urls) > 20 and any("Unlisted Orchard" in body for body in staff_bodies)  # the sweep can fail
    for url in urls:
        body = (await client.get(url, headers=user.headers)).text
        assert "Unlisted Orchard" not in body, url
        assert str(LAT) not in body and str(LON) not in body, url


async def test_a_banded_distance_is_measured_from_the_municipality_not_the_home(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    async with resources.sessionmaker() as session:
        centroid = await session.get_one(Municipality, SPRINGFIELD)
    # A home 6-7 km north of Springfield's centroid, searched for from its own doorstep.
    home = (centroid.lat + 0.06, centroid.lon)
    await make_household(resources.sessionmaker, municipality_id=SPRINGFIELD, lat=home[0], lon=home[1])
    at_the_door = f"?near={home[0]},{home[1]}"
    assert (await available(client, staff, at_the_door))["items"][0]["distance_km"] == 0.0
    banded = (await available(client, caseworker, at_the_door))["items"][0]
    assert banded["distance_band"] == "5-10 km" and "distance_km" not in banded


async def test_ready_for_a_level_keeps_only_homes_whose_primary_caregivers_are_trained_for_it(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    staff = await sign_in("placement_staff")
    make = resources.sessionmaker
    specialised, basic, untrained = [
        await make_household(make, name=n) for n in ("Specialised", "Basic", "None")
    ]
    for household, codes in ((specialised, SPECIALIZED), (basic, BASICS), (untrained, [])):
        person = await make_caregiver(make, household)
        if codes:
            await complete(make, person, codes, clock.now.date() - timedelta(days=10), verified_by=staff.id)
    ready = await available(client, staff, "?ready_for=trafficking_specialized")
    assert [h["household_id"] for h in ready["items"]] == [str(specialised)]
    standard = await available(client, staff, "?ready_for=standard")
    assert sorted(h["name"] for h in standard["items"]) == ["Basic", "Specialised"]
    listed = await client.get(f"{API}/households?limit=10", headers=staff.headers)
    summary = {h["name"]: {r["level"]: r["ready"] for r in h["readiness"]} for h in listed.json()["items"]}
    assert summary["Specialised"] == {"standard": True, "trafficking_specialized": True}
    assert summary["None"] == {"standard": False, "trafficking_specialized": False}
    unknown = await client.get(f"{API}/households/available?ready_for=expert", headers=staff.headers)
    assert unknown.status_code == 400
