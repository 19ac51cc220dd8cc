"""Who may ask, read, explain and accept; and what a banded role never sees."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from arq.worker import Worker

from placement.core.resources import Resources
from tests.audited import denials
from tests.caregivers.factories import make_household
from tests.factories import API, make_safe_house, make_youth
from tests.matches.asking import accept, ask

ZONE = {"lat": 42.123456, "lon": -71.654321, "radius_km": 2.5}


async def test_a_caseworker_cannot_ask_read_explain_or_accept_for_a_youth_outside_their_caseload(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, worker: Worker
) -> None:
    staff, mine, theirs = (
        await sign_in("placement_staff"),
        await sign_in("caseworker"),
        await sign_in("caseworker"),
    )
    house = await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, mine)
    answer = await ask(client, mine, [youth])
    bed = house["bed_list"][0]["id"]
    asked = await client.post(
        f"{API}/match-requests", json={"youth_ids": [youth["id"]]}, headers=theirs.headers
    )
    read = await client.get(f"{API}/match-requests/{answer['id']}", headers=theirs.headers)
    explained = await client.get(f"{API}/match-requests/{answer['id']}/why-not/{bed}", headers=theirs.headers)
    accepted = await accept(client, theirs, answer["id"], 1)
    cancelled = await client.post(
        f"{API}/match-requests/{answer['id']}/cancel", json={}, headers=theirs.headers
    )
    assert [r.status_code for r in (asked, read, explained, accepted, cancelled)] == [404] * 5
    assert sorted(await denials(resources, theirs.id)) == sorted(
        [
            ("request_match", 404),
            ("read_match_request", 404),
            ("explain_target", 404),
            ("accept_proposal", 404),
            ("cancel_match_request", 404),
        ]
    )
    for refused in ("caregiver", "program_lead", "admin"):
        who = await sign_in(refused)
        response = await client.get(f"{API}/match-requests/{answer['id']}", headers=who.headers)
        assert response.status_code == 403, (refused, response.text)
    assert (await client.post(f"{API}/matching/batch", headers=mine.headers)).status_code == 403


async def test_a_banded_role_sees_no_position_exact_distance_or_danger_zone_anywhere(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    near = await make_safe_house(client, staff, beds=1, lat=42.35171, lon=-71.06032)
    inside = await make_safe_house(client, staff, beds=1, lat=ZONE["lat"], lon=ZONE["lon"])
    home = await make_household(resources.sessionmaker, capacity=1, lat=42.27731, lon=-71.80337)
    youth = await make_youth(client, caseworker, danger_zones=[ZONE])
    answer = await ask(client, caseworker, [youth])
    assert answer["status"] == "proposed"
    responses = [json.dumps(answer)]
    for target in (inside["bed_list"][0]["id"], near["bed_list"][0]["id"], str(home)):
        why = await client.get(
            f"{API}/match-requests/{answer['id']}/why-not/{target}", headers=caseworker.headers
        )
        assert why.status_code == 200, why.text
        responses.append(why.text)
    staff_view = await client.get(f"{API}/match-requests/{answer['id']}", headers=staff.headers)
    exact = [f"{a['distance_km']}" for p in staff_view.json()["proposals"] for a in p["assignments"]]
    redis = resources.redis
    stored = [key.decode() for key in await redis.keys("*")]
    for key in stored:
        if (await redis.type(key)) == b"string":
            stored.append((await redis.get(key) or b"").decode("latin-1"))
    secrets = [
        "42.35171", "-71.06032", "42.27731", "-71.80337", "42.123456", "-71.654321", "12 Example Street",
        *exact,
    ]  # fmt: skip
    for text in responses + stored:
        for secret in secrets:
            assert secret not in text, (secret, text[:300])
    assert any(json.loads(r).get("explanations", [{}])[0].get("feasible") is False for r in responses[1:])


async def test_why_not_explains_a_home_that_was_not_proposed_on_the_data_the_request_was_solved_on(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1)
    paused = await make_household(resources.sessionmaker, availability="closed")
    youth = await make_youth(client, caseworker)
    answer = await ask(client, caseworker, [youth])
    why = await client.get(
        f"{API}/match-requests/{answer['id']}/why-not/{paused}", headers=caseworker.headers
    )
    assert why.status_code == 200, why.text
    [explanation] = why.json()["explanations"]
    assert explanation["feasible"] is False
    assert {"rule": "availability", "detail": "household availability is closed"} in explanation["failures"]
    boys_only = await make_safe_house(client, staff, beds=1, genders=["male"])  # never loaded: judged today
    bed = boys_only["bed_list"][0]["id"]
    why = await client.get(f"{API}/match-requests/{answer['id']}/why-not/{bed}", headers=caseworker.headers)
    [explanation] = why.json()["explanations"]
    assert [f["rule"] for f in explanation["failures"]] == ["gender"]
    unknown = await client.get(
        f"{API}/match-requests/{answer['id']}/why-not/{youth['id']}", headers=caseworker.headers
    )
    assert unknown.status_code == 404


async def test_a_caseworker_lists_no_request_of_a_youth_off_their_caseload_and_a_bad_id_is_400(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    mine, theirs = await sign_in("caseworker"), await sign_in("caseworker")
    youth = await make_youth(client, mine)
    asked = await client.post(
        f"{API}/match-requests", json={"youth_ids": [youth["id"]]}, headers=mine.headers
    )
    assert asked.status_code == 202, asked.text
    url = f"{API}/match-requests"

    listed = await client.get(url, params={"youth_id": youth["id"]}, headers=mine.headers)
    assert [r["id"] for r in listed.json()["items"]] == [asked.json()["id"]]
    # As `GET /placements?youth_id=`: a filter on a list, answered within the caseload; an empty
    # list says nothing about whether the youth exists.
    for youth_id in (youth["id"], str(uuid.uuid4())):
        hidden = await client.get(url, params={"youth_id": youth_id}, headers=theirs.headers)
        assert hidden.status_code == 200 and hidden.json() == {
            "items": [],
            "total": 0,
            "limit": 50,
            "offset": 0,
        }
    for params in ({"youth_id": "not-an-id"}, {}, {"youth_id": youth["id"], "limit": 0}):
        refused = await client.get(url, params=params, headers=mine.headers)
        assert refused.status_code == 400, (params, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
