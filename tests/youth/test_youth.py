"""Youth referrals: each caseworker to their own caseload, staff to all, program leads to none."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from placement.core.audit import AuditEntry
from placement.core.resources import Resources
from tests.conftest import FakeClock
from tests.factories import API, BOSTON, make_youth, youth_body


async def test_a_caseworker_refers_a_youth_to_their_own_caseload(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    caseworker = await sign_in("caseworker")
    youth = await make_youth(client, caseworker, danger_zones=[{"lat": 42.3, "lon": -71.1, "radius_km": 5}])
    assert youth["caseworker_id"] == str(caseworker.id)
    assert youth["status"] == "awaiting"
    assert youth["danger_zones"] == [{"lat": 42.3, "lon": -71.1, "radius_km": 5.0, "label": ""}]
    assert (youth["origin_lat"], youth["origin_lon"]) != (None, None)  # the municipality's centroid


async def test_a_caseworker_cannot_put_a_youth_on_someone_elses_caseload(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    caseworker, other = await sign_in("caseworker"), await sign_in("caseworker")
    body = youth_body(other.id)
    refused = await client.post(f"{API}/youth", json=body, headers=caseworker.headers)
    assert refused.status_code == 403


async def test_caseworkers_see_and_change_only_their_own_youth(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, mine, theirs = (
        await sign_in("placement_staff"),
        await sign_in("caseworker"),
        await sign_in("caseworker"),
    )
    own = await make_youth(client, mine)
    other = await make_youth(client, theirs)
    listed = (await client.get(f"{API}/youth", headers=mine.headers)).json()
    assert [y["id"] for y in listed["items"]] == [own["id"]]
    assert (await client.get(f"{API}/youth/{other['id']}", headers=mine.headers)).status_code == 404
    changed = await client.patch(f"{API}/youth/{other['id']}", json={"urgency": 5}, headers=mine.headers)
    assert changed.status_code == 404
    assert (await client.get(f"{API}/youth/{other['id']}", headers=theirs.headers)).json()["urgency"] == 4
    everyone = (await client.get(f"{API}/youth", headers=staff.headers)).json()
    assert everyone["total"] == 2


async def test_staff_reassign_a_youth_and_the_new_caseworker_takes_over(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, first, second = (
        await sign_in("placement_staff"),
        await sign_in("caseworker"),
        await sign_in("caseworker"),
    )
    youth = await make_youth(client, first)
    moved = await client.patch(
        f"{API}/youth/{youth['id']}", json={"caseworker_id": str(second.id)}, headers=staff.headers
    )
    assert moved.status_code == 200 and moved.json()["caseworker_id"] == str(second.id)
    assert (await client.get(f"{API}/youth/{youth['id']}", headers=first.headers)).status_code == 404
    not_a_caseworker = await client.patch(
        f"{API}/youth/{youth['id']}", json={"caseworker_id": str(staff.id)}, headers=staff.headers
    )
    assert not_a_caseworker.status_code == 422


async def test_an_exit_is_recorded_with_a_reason_and_refused_while_placed(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    caseworker = await sign_in("caseworker")
    youth = await make_youth(client, caseworker)
    exited = await client.patch(
        f"{API}/youth/{youth['id']}", json={"exit_reason": "Reunified"}, headers=caseworker.headers
    )
    assert exited.status_code == 200 and exited.json()["status"] == "exited"
    listed = (
        await client.get(f"{API}/youth", params={"status": "exited"}, headers=caseworker.headers)
    ).json()
    assert listed["total"] == 1


async def test_program_leads_and_caregivers_see_no_youth(client: httpx.AsyncClient, sign_in: Any) -> None:
    caseworker = await sign_in("caseworker")
    youth = await make_youth(client, caseworker)
    for role in ("program_lead", "caregiver", "admin"):
        user = await sign_in(role)
        assert (await client.get(f"{API}/youth", headers=user.headers)).status_code == 403
        assert (await client.get(f"{API}/youth/{youth['id']}", headers=user.headers)).status_code == 403


@pytest.mark.parametrize(
    ("override", "status", "fragment"),
    [
        ({"date_of_birth": "2031-01-01"}, 422, "date_of_birth"),
        ({"date_of_birth": "1980-01-01"}, 422, "ages 0-25"),
        ({"date_of_birth": "01/02/2010"}, 400, "date_of_birth"),
        ({"gender": "x"}, 400, "gender"),
        ({"urgency": 9}, 400, "urgency"),
        ({"max_distance_km": 0}, 400, "max_distance_km"),
        ({"case_reference": "Jane Doe"}, 400, "case_reference"),
        ({"required_services": ["yoga"]}, 422, "yoga"),
        ({"languages": ["xx"]}, 422, "languages"),
        ({"origin_municipality_id": "00000000-0000-4000-8000-000000000000"}, 422, "origin_municipality_id"),
        ({"origin_lat": 42.0}, 422, "origin_lat and origin_lon"),
        ({"danger_zones": [{"lat": 42.0, "lon": -71.0, "radius_km": -1}]}, 400, "radius_km"),
        ({"excluded_safe_house_ids": ["00000000-0000-4000-8000-000000000000"]}, 422, "no safe house"),
        ({"full_name": "Jane Doe"}, 400, "full_name"),
    ],
)
async def test_bad_referrals_get_a_problem_naming_the_field(
    override: dict[str, Any], status: int, fragment: str, client: httpx.AsyncClient, sign_in: Any
) -> None:
    caseworker = await sign_in("caseworker")
    body = {**youth_body(), "origin_municipality_id": str(BOSTON), **override}
    response = await client.post(f"{API}/youth", json=body, headers=caseworker.headers)
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]
    assert (await client.get(f"{API}/youth", headers=caseworker.headers)).json()["total"] == 0


async def test_a_case_reference_is_referred_once_and_a_clash_is_audited_without_echoing_it(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    first, other = await sign_in("caseworker"), await sign_in("caseworker")
    body = youth_body(case_reference="MA-2026-0001", date_of_birth=date(2011, 5, 5).isoformat())
    assert (await client.post(f"{API}/youth", json=body, headers=first.headers)).status_code == 201
    again = await client.post(f"{API}/youth", json=body, headers=other.headers)
    assert again.status_code == 409 and "MA-2026-0001" not in again.text
    async with resources.sessionmaker() as session:
        denied = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.actor_id == other.id, AuditEntry.outcome == "denied")
            )
        ).all()
    assert [(e.action, e.status) for e in denied] == [("refer_youth", 409)]


async def test_a_youth_who_has_aged_out_can_still_be_updated_and_exited(
    client: httpx.AsyncClient, sign_in: Any, clock: FakeClock
) -> None:
    caseworker = await sign_in("caseworker")
    youth = await make_youth(client, caseworker, date_of_birth=date(clock.now.year - 25, 1, 1).isoformat())
    clock.advance(days=366)
    caseworker = await sign_in("caseworker", username=None)
    staff = await sign_in("placement_staff")
    exited = await client.patch(
        f"{API}/youth/{youth['id']}", json={"exit_reason": "Aged out"}, headers=staff.headers
    )
    assert exited.status_code == 200, exited.text


async def test_replaying_an_idempotency_key_rechecks_who_may_see_the_youth(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    """The replay reads the youth afresh: once on another caseload, the first caseworker gets 404."""
    staff, first, second = (
        await sign_in("placement_staff"),
        await sign_in("caseworker"),
        await sign_in("caseworker"),
    )
    body = youth_body()
    headers = {**first.headers, "Idempotency-Key": "referral-1"}
    created = await client.post(f"{API}/youth", json=body, headers=headers)
    assert created.status_code == 201
    replayed = await client.post(f"{API}/youth", json=body, headers=headers)
    assert replayed.status_code == 201 and replayed.json()["id"] == created.json()["id"]
    youth_id = created.json()["id"]
    moved = await client.patch(
        f"{API}/youth/{youth_id}", json={"caseworker_id": str(second.id)}, headers=staff.headers
    )
    assert moved.status_code == 200
    after = await client.post(f"{API}/youth", json=body, headers=headers)
    assert after.status_code == 404 and "danger_zones" not in after.text


async def test_a_youth_read_is_recorded_once_with_the_read_and_a_refused_one_only_as_refused(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    mine, other = await sign_in("caseworker"), await sign_in("caseworker")
    youth = await make_youth(client, mine)
    assert (await client.get(f"{API}/youth/{youth['id']}", headers=mine.headers)).status_code == 200
    assert (await client.get(f"{API}/youth/{youth['id']}", headers=other.headers)).status_code == 404
    async with resources.sessionmaker() as session:
        entries = (
            await session.execute(
                select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.outcome).where(
                    AuditEntry.entity_id == youth["id"], AuditEntry.action.in_(("read_youth", "get_youth"))
                )
            )
        ).all()
    # The referral's own answer is a read too.
    assert Counter(map(tuple, entries)) == {
        (mine.id, "read_youth", "allowed"): 2,
        (other.id, "get_youth", "denied"): 1,
    }
