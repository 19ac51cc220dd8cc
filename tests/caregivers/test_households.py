"""Households: registration by staff, who sees what, and self-service availability with ETags."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from placement.core.audit import AuditEntry
from placement.core.resources import Resources
from tests.audited import denials
from tests.caregivers.factories import WORCESTER, hold_in_home, make_caregiver, make_household
from tests.conftest import FakeClock
from tests.factories import API, make_youth
from tests.statements import counted_statements

ADDRESS = "9 Hidden Hollow Road, Worcester, MA 01609"
LAT, LON = 42.28311, -71.79957


def household_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"The Alvarez household {uuid.uuid4().hex[:4]}",
        "kind": "foster",
        "licence_status": "licensed",
        "licence_expires_on": "2030-06-30",
        "capacity": 2,
        "min_age": 8,
        "max_age": 17,
        "genders": ["female", "nonbinary"],
        "services": ["education"],
        "languages": ["en", "es"],
        "takes_sibling_groups": True,
        "municipality_id": str(WORCESTER),
        "street_address": ADDRESS,
        "lat": LAT,
        "lon": LON,
    }
    body.update(overrides)
    return body


async def create(client: httpx.AsyncClient, staff: Any, **overrides: Any) -> httpx.Response:
    return await client.post(f"{API}/households", json=household_body(**overrides), headers=staff.headers)


async def test_staff_register_a_household_and_read_it_back_with_an_etag(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    created = await create(client, staff)
    assert created.status_code == 201, created.text
    household = created.json()
    assert household["free_places"] == 2 and household["licensed_now"] is True
    assert household["availability"]["status"] == "open" and household["availability"]["stale"] is False
    assert household["place"]["municipality"] == "Worcester" and household["street_address"] == ADDRESS
    read = await client.get(f"{API}/households/{household['id']}", headers=staff.headers)
    assert read.headers["etag"] == created.headers["etag"] == f'"{household["version"]}"'


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"capacity": 5}, "capacity_waiver_reason"),
        ({"kind": "kin"}, "related_youth_ids"),
        ({"related_youth_ids": [str(uuid.uuid4())]}, "only kin and biological"),
        ({"kind": "kin", "related_youth_ids": [str(uuid.uuid4())]}, "does not name a referred youth"),
        ({"licence_expires_on": None}, "licence_expires_on"),
        ({"min_age": 15, "max_age": 12}, "min_age"),
        ({"services": ["astrology"]}, "astrology"),
        ({"municipality_id": str(uuid.uuid4())}, "municipality_id"),
    ],
)
async def test_a_household_breaking_a_rule_is_refused_with_a_422_and_nothing_is_written(
    overrides: dict[str, Any], detail: str, client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    response = await create(client, staff, **overrides)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert detail in response.json()["detail"]
    listed = await client.get(f"{API}/households", headers=staff.headers)
    assert listed.json()["total"] == 0


async def test_more_than_four_children_need_a_recorded_waiver(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    response = await create(
        client, staff, capacity=6, capacity_waiver_reason="Sibling group of six, DCF waiver"
    )
    assert response.status_code == 201 and response.json()["capacity"] == 6


async def test_a_kin_home_names_the_youth_it_is_related_to(client: httpx.AsyncClient, sign_in: Any) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    youth = await make_youth(client, caseworker)
    response = await create(client, staff, kind="kin", related_youth_ids=[youth["id"]])
    assert response.status_code == 201, response.text
    assert response.json()["related_youth_ids"] == [youth["id"]]


async def test_the_address_reaches_staff_and_the_households_own_caregivers_only(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, own, other = (
        await sign_in("placement_staff"),
        await sign_in("caregiver"),
        await sign_in("caregiver"),
    )
    household = (await create(client, staff)).json()
    await make_caregiver(resources.sessionmaker, uuid.UUID(household["id"]), own)
    await make_caregiver(resources.sessionmaker, await make_household(resources.sessionmaker), other)
    mine = await client.get(f"{API}/households/{household['id']}", headers=own.headers)
    assert mine.json()["street_address"] == ADDRESS
    for role in ("caseworker", "admin"):
        user = await sign_in(role)
        body = (await client.get(f"{API}/households/{household['id']}", headers=user.headers)).text
        assert (ADDRESS in body) is (role == "admin")
    listed = (await client.get(f"{API}/households", headers=other.headers)).json()
    assert [h["id"] for h in listed["items"]] != [household["id"]] and listed["total"] == 1


async def test_a_caregiver_reading_or_changing_another_household_gets_404_and_is_audited(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    caregiver = await sign_in("caregiver")
    await make_caregiver(resources.sessionmaker, await make_household(resources.sessionmaker), caregiver)
    theirs = await make_household(resources.sessionmaker, street_address=ADDRESS)
    read = await client.get(f"{API}/households/{theirs}", headers=caregiver.headers)
    change = await client.put(
        f"{API}/households/{theirs}/availability",
        json={"status": "closed"},
        headers={**caregiver.headers, "If-Match": '"1"'},
    )
    confirm = await client.post(
        f"{API}/households/{theirs}/availability/confirm", headers={**caregiver.headers, "If-Match": '"1"'}
    )
    history = await client.get(f"{API}/households/{theirs}/availability/history", headers=caregiver.headers)
    assert (read.status_code, change.status_code, confirm.status_code, history.status_code) == (404,) * 4
    assert ADDRESS not in read.text + change.text + confirm.text
    assert await denials(resources, caregiver.id) == [
        ("get_household", 404),
        ("set_availability", 404),
        ("confirm_availability", 404),
        ("availability_history", 404),
    ]


async def own_household(resources: Resources, caregiver: Any, **overrides: Any) -> uuid.UUID:
    household = await make_household(resources.sessionmaker, **overrides)
    await make_caregiver(resources.sessionmaker, household, caregiver)
    return household


async def test_changing_availability_needs_if_match_and_a_stale_one_is_refused(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    caregiver = await sign_in("caregiver")
    household = await own_household(resources, caregiver)
    url, body = f"{API}/households/{household}/availability", {"status": "closed", "note": "family emergency"}
    missing = await client.put(url, json=body, headers=caregiver.headers)
    assert missing.status_code == 428 and "If-Match" in missing.json()["detail"]
    etag = (await client.get(f"{API}/households/{household}", headers=caregiver.headers)).headers["etag"]
    changed = await client.put(url, json=body, headers={**caregiver.headers, "If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["availability"]["status"] == "closed" and changed.headers["etag"] != etag
    stale = await client.put(url, json={"status": "open"}, headers={**caregiver.headers, "If-Match": etag})
    assert stale.status_code == 412 and stale.headers["content-type"].startswith("application/problem+json")
    current = (await client.get(f"{API}/households/{household}", headers=caregiver.headers)).json()
    assert current["availability"]["status"] == "closed"


async def test_every_availability_change_is_audited_with_old_and_new_values(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    caregiver = await sign_in("caregiver")
    household = await own_household(resources, caregiver)
    until = (clock.now.date().replace(day=1)).replace(year=clock.now.year + 1).isoformat()
    response = await client.put(
        f"{API}/households/{household}/availability",
        json={"status": "paused", "paused_until": until},
        headers={**caregiver.headers, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["availability"]["open_now"] is False
    async with resources.sessionmaker() as session:
        entry = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "set_household_availability", AuditEntry.actor_id == caregiver.id
            )
        )
    assert entry is not None and entry.actor_id == caregiver.id
    assert entry.detail == {"old": "open", "new": f"paused until {until}"}  # no note before or after


async def test_the_availability_history_lists_each_change_and_confirmation_newest_first_with_who(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    caregiver, staff = await sign_in("caregiver"), await sign_in("placement_staff")
    household = await own_household(resources, caregiver)
    url = f"{API}/households/{household}/availability"
    until = (clock.now.date() + timedelta(days=30)).isoformat()
    steps = [
        (caregiver, "PUT", url, {"status": "paused", "paused_until": until, "note": "new baby"}),
        (caregiver, "POST", f"{url}/confirm", None),
        (staff, "PUT", url, {"status": "closed"}),
    ]
    for version, (who, method, target, body) in enumerate(steps, start=1):
        clock.advance(minutes=1)
        headers = {**who.headers, "If-Match": f'"{version}"'}
        done = await client.request(method, target, json=body, headers=headers)
        assert done.status_code == 200, done.text

    mine = await client.get(f"{url}/history", headers=caregiver.headers)
    assert mine.status_code == 200, mine.text
    events = [
        {k: e[k] for k in ("kind", "status", "paused_until", "previous_status", "note", "by_role", "by_you")}
        for e in mine.json()["items"]
    ]
    assert events == [
        dict(kind="changed", status="closed", paused_until=None, previous_status="paused", note=None,
             by_role="placement_staff", by_you=False),
        dict(kind="confirmed", status="paused", paused_until=until, previous_status=None, note=None,
             by_role="caregiver", by_you=True),
        dict(kind="changed", status="paused", paused_until=until, previous_status="open", note="new baby",
             by_role="caregiver", by_you=True),
    ]  # fmt: skip
    assert mine.json()["total"] == 3
    paged = (await client.get(f"{url}/history?limit=1&offset=2", headers=staff.headers)).json()
    assert [e["by_you"] for e in paged["items"]] == [False] and paged["items"][0]["note"] == "new baby"
    caseworker = await sign_in("caseworker")
    assert (await client.get(f"{url}/history", headers=caseworker.headers)).status_code == 403


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"status": "paused"}, "paused_until"),
        ({"status": "paused", "paused_until": "2020-01-01"}, "not after today"),
        ({"status": "open", "paused_until": "2099-01-01"}, "only a paused household"),
        ({"status": "away"}, "status"),
    ],
)
async def test_an_impossible_availability_is_refused_and_nothing_changes(
    body: dict[str, Any], detail: str, client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    caregiver = await sign_in("caregiver")
    household = await own_household(resources, caregiver)
    response = await client.put(
        f"{API}/households/{household}/availability",
        json=body,
        headers={**caregiver.headers, "If-Match": '"1"'},
    )
    assert response.status_code in (400, 422) and detail in response.json()["detail"]
    current = (await client.get(f"{API}/households/{household}", headers=caregiver.headers)).json()
    assert (current["version"], current["availability"]["status"]) == (1, "open")


async def test_a_household_not_confirmed_for_the_stale_period_is_flagged_until_confirmed(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock
) -> None:
    caregiver = await sign_in("caregiver")
    last_confirmed = clock.now - timedelta(days=resources.settings.stale_after_days, minutes=1)
    household = await own_household(resources, caregiver, availability_confirmed_at=last_confirmed)
    read = await client.get(f"{API}/households/{household}", headers=caregiver.headers)
    assert read.json()["availability"]["stale"] is True
    confirmed = await client.post(
        f"{API}/households/{household}/availability/confirm",
        headers={**caregiver.headers, "If-Match": read.headers["etag"]},
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["availability"]["stale"] is False
    assert confirmed.json()["availability"]["status"] == "open"


async def test_staff_change_any_household_but_not_below_its_children(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff = await sign_in("placement_staff")
    household = await make_household(resources.sessionmaker)
    url = f"{API}/households/{household}"
    unversioned = await client.patch(url, json={"capacity": 3}, headers=staff.headers)
    assert unversioned.status_code == 428
    changed = await client.patch(
        url,
        json={"capacity": 3, "street_address": "1 New Road"},
        headers={**staff.headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200 and changed.json()["capacity"] == 3
    async with resources.sessionmaker() as session:
        entry = await session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "update_household", AuditEntry.entity_id == str(household)
            )
        )
    assert entry is not None and entry.detail == {"changes": "capacity: 2 -> 3; street_address: changed"}


async def test_a_login_belongs_to_one_caregiver_of_the_caregiver_role(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, parent, caseworker = (
        await sign_in("placement_staff"),
        await sign_in("caregiver"),
        await sign_in("caseworker"),
    )
    household = await make_household(resources.sessionmaker)
    url = f"{API}/households/{household}/caregivers"
    added = await client.post(
        url,
        json={"name": "Rosa Alvarez", "role": "primary", "user_id": str(parent.id)},
        headers=staff.headers,
    )
    assert added.status_code == 201, added.text
    again = await client.post(
        url, json={"name": "Rosa A.", "role": "secondary", "user_id": str(parent.id)}, headers=staff.headers
    )
    assert again.status_code == 409
    wrong = await client.post(
        url,
        json={"name": "Case Worker", "role": "secondary", "user_id": str(caseworker.id)},
        headers=staff.headers,
    )
    assert wrong.status_code == 422
    detail = (await client.get(f"{API}/households/{household}", headers=parent.headers)).json()
    assert [(c["name"], c["role"]) for c in detail["caregivers"]] == [("Rosa Alvarez", "primary")]


def test_the_openapi_document_gives_versioned_writes_their_precondition_problems(app: Any) -> None:
    paths = app.openapi_schema.to_schema()["paths"]
    for path, method in (
        ("/api/v1/households/{id}", "patch"),
        ("/api/v1/households/{id}/availability", "put"),
        ("/api/v1/households/{id}/availability/confirm", "post"),
    ):
        responses = paths[path][method]["responses"]
        for status in ("412", "428"):
            assert "application/problem+json" in responses[status]["content"], f"{method} {path} {status}"


@pytest.mark.parametrize(("if_match", "status"), [("*", 428), ('W/"1"', 412), ('"2", "1"', 200)])
async def test_if_match_must_name_the_version_read_strongly(
    if_match: str, status: int, client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    caregiver = await sign_in("caregiver")
    household = await own_household(resources, caregiver)
    response = await client.post(
        f"{API}/households/{household}/availability/confirm",
        headers={**caregiver.headers, "If-Match": if_match},
    )
    assert response.status_code == status, response.text


async def test_capacity_cannot_drop_below_the_children_held_or_placed_there(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    household = await make_household(resources.sessionmaker, capacity=3)
    for _ in range(2):
        youth = await make_youth(client, caseworker)
        held = await hold_in_home(client, staff, youth, household)
        assert held.status_code == 201
    url, versioned = f"{API}/households/{household}", {**staff.headers, "If-Match": '"1"'}
    refused = await client.patch(url, json={"capacity": 1}, headers=versioned)
    assert refused.status_code == 409 and "2 children" in refused.json()["detail"]
    current = (await client.get(url, headers=staff.headers)).json()
    assert (current["capacity"], current["version"], current["free_places"]) == (3, 1, 1)
    assert (await client.patch(url, json={"capacity": 2}, headers=versioned)).status_code == 200


async def test_a_page_of_households_with_readiness_is_two_statements_however_long(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff = await sign_in("caseworker")
    for n in range(12):
        household = await make_household(resources.sessionmaker)
        await make_caregiver(resources.sessionmaker, household)
        if n % 2:
            await make_caregiver(resources.sessionmaker, household, role="secondary")
    counts = []
    for limit in (2, 12):
        with counted_statements(resources) as statements:
            page = await client.get(f"{API}/households?limit={limit}", headers=staff.headers)
        assert len(page.json()["items"]) == limit
        counts.append(sum("households" in s or "caregivers" in s for s in statements))
    assert counts == [2, 2]


async def test_caregivers_change_their_homes_profile_but_not_its_licence_or_capacity(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    caregiver = await sign_in("caregiver")
    household = await own_household(resources, caregiver)
    url = f"{API}/households/{household}"
    changed = await client.patch(
        url, json={"languages": ["en", "pt"], "max_age": 16}, headers={**caregiver.headers, "If-Match": '"1"'}
    )
    assert changed.status_code == 200 and changed.json()["languages"] == ["en", "pt"]
    refused = await client.patch(
        url, json={"capacity": 4, "languages": ["en"]}, headers={**caregiver.headers, "If-Match": '"2"'}
    )
    assert refused.status_code == 403 and "capacity" in refused.json()["detail"]
    assert (await client.get(url, headers=caregiver.headers)).json()["capacity"] == 2
    assert await denials(resources, caregiver.id) == [("update_household", 403)]
