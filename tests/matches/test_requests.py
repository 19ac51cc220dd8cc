"""Match requests through the API and a real worker: asked, solved, read, accepted, cancelled."""

from __future__ import annotations

from typing import Any

import httpx
from arq.worker import Worker

from placement.core.resources import Resources
from tests.caregivers.factories import make_household
from tests.conftest import FakeClock
from tests.factories import API, make_safe_house, make_youth
from tests.matches.asking import accept, answer_of, ask


async def test_a_caseworker_asks_sees_ranked_proposals_with_banded_distances_and_accepts_one(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=2)
    await make_household(resources.sessionmaker, capacity=1, name="Maple")
    youth = await make_youth(client, caseworker)
    answer = await ask(client, caseworker, [youth])
    assert answer["status"] == "proposed", answer
    first = answer["proposals"][0]
    assert first["rank"] == 1 and first["site"]["municipality"]
    [assignment] = first["assignments"]
    assert assignment["distance_km"] is None and assignment["distance_band"].endswith("km")
    assert sum(assignment["terms"].values()) == assignment["score"] == first["score"]
    seen_by_staff = await client.get(f"{API}/match-requests/{answer['id']}", headers=staff.headers)
    assert seen_by_staff.json()["proposals"][0]["assignments"][0]["distance_km"] is not None
    accepted = await accept(client, caseworker, answer["id"], 1)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "accepted" and len(accepted.json()["placement_ids"]) == 1
    [placement_id] = accepted.json()["placement_ids"]
    placement = (await client.get(f"{API}/placements/{placement_id}", headers=staff.headers)).json()
    assert placement["status"] == "held" and placement["youth_id"] == youth["id"]
    if first["site"]["kind"] == "safe_house":
        assert placement["safe_house_id"] == house["id"]


async def test_a_sibling_group_is_accepted_into_two_beds_of_one_safe_house_in_one_transaction(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1)  # room for one sibling only
    house = await make_safe_house(client, staff, beds=2)
    siblings = [await make_youth(client, caseworker, sibling_group="G-1") for _ in range(2)]
    answer = await ask(client, caseworker, siblings, kinds=["safe_house_bed"])
    assert [p["site"]["id"] for p in answer["proposals"]] == [house["id"]]
    accepted = await accept(client, caseworker, answer["id"], 1)
    assert accepted.status_code == 200, accepted.text
    placements = [
        (await client.get(f"{API}/placements/{p}", headers=staff.headers)).json()
        for p in accepted.json()["placement_ids"]
    ]
    assert {p["youth_id"] for p in placements} == {y["id"] for y in siblings}
    assert {p["safe_house_id"] for p in placements} == {house["id"]}
    assert len({p["bed_id"] for p in placements}) == 2


async def test_accepting_a_proposal_whose_bed_was_taken_answers_409_with_the_proposals_still_valid(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    for _ in range(3):
        await make_safe_house(client, staff, beds=1)
    youth, other = await make_youth(client, caseworker), await make_youth(client, caseworker)
    answer = await ask(client, caseworker, [youth])
    assert len(answer["proposals"]) == 3
    taken = answer["proposals"][0]["assignments"][0]["target_id"]
    held = await client.post(
        f"{API}/placements", json={"youth_id": other["id"], "bed_id": taken}, headers=staff.headers
    )
    assert held.status_code == 201, held.text
    refused = await accept(client, caseworker, answer["id"], 1)
    assert refused.status_code == 409, refused.text
    assert "already held or occupied" in refused.json()["changed"]
    assert refused.json()["still_valid"] == [2, 3]
    again = await client.get(f"{API}/match-requests/{answer['id']}", headers=caseworker.headers)
    assert again.json()["status"] == "proposed" and again.json()["placement_ids"] == []
    assert (await accept(client, caseworker, answer["id"], 2)).status_code == 200


async def test_no_match_says_how_many_candidates_each_rule_removed(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1, genders=["male"])
    youth = await make_youth(client, caseworker, gender="female")
    answer = await ask(client, caseworker, [youth])
    assert answer["status"] == "no_match" and answer["proposals"] == []
    [reasons] = answer["no_match"]
    counts = {c["rule"]: c for c in reasons["rule_counts"]}
    assert counts["gender"]["failed"] == 1 and counts["gender"]["only"] == 1
    assert reasons["near_misses"][0]["failure"]["rule"] == "gender"


async def test_a_new_request_replaces_the_open_one_and_a_cancelled_one_cannot_be_accepted(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, caseworker)
    first = await ask(client, caseworker, [youth])
    second = await ask(client, caseworker, [youth])
    assert (await answer_of(client, caseworker, first["id"]))["status"] == "cancelled"
    cancelled = await client.post(
        f"{API}/match-requests/{second['id']}/cancel",
        json={"note": "family found"},
        headers=caseworker.headers,
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await accept(client, caseworker, second["id"], 1)).status_code == 409


async def test_proposals_older_than_the_setting_expire_and_cannot_be_accepted(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker, clock: FakeClock, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1)
    answer = await ask(client, caseworker, [await make_youth(client, caseworker)])
    for _ in range(resources.settings.match_valid_minutes // 15):  # a session idle 30 minutes ends
        assert (await answer_of(client, caseworker, answer["id"]))["status"] == "proposed"
        clock.advance(minutes=15)
    clock.advance(minutes=1)
    assert (await answer_of(client, caseworker, answer["id"]))["status"] == "expired"
    refused = await accept(client, caseworker, answer["id"], 1)
    assert refused.status_code == 409 and "moved on" in refused.json()["detail"]


async def test_only_youth_awaiting_placement_can_be_matched_and_only_siblings_together(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1)
    held, other = await make_youth(client, caseworker), await make_youth(client, caseworker)
    bed = house["bed_list"][0]["id"]
    await client.post(
        f"{API}/placements", json={"youth_id": held["id"], "bed_id": bed}, headers=staff.headers
    )
    for youth_ids, status in (([held["id"]], 409), ([other["id"], held["id"]], 409)):
        refused = await client.post(
            f"{API}/match-requests", json={"youth_ids": youth_ids}, headers=caseworker.headers
        )
        assert refused.status_code == status, refused.text
    strangers = [await make_youth(client, caseworker) for _ in range(2)]
    refused = await client.post(
        f"{API}/match-requests", json={"youth_ids": [y["id"] for y in strangers]}, headers=caseworker.headers
    )
    assert refused.status_code == 422 and "sibling" in refused.json()["detail"]


async def test_the_same_idempotency_key_asks_once_and_accepts_once(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=2)
    youth = await make_youth(client, caseworker)
    headers = {**caseworker.headers, "Idempotency-Key": "ask-1"}
    body = {"youth_ids": [youth["id"]]}
    first = await client.post(f"{API}/match-requests", json=body, headers=headers)
    again = await client.post(f"{API}/match-requests", json=body, headers=headers)
    assert first.status_code == again.status_code == 202 and first.json()["id"] == again.json()["id"]
    await answer_of(client, caseworker, first.json()["id"])
    url = f"{API}/match-requests/{first.json()['id']}/accept"
    headers = {**caseworker.headers, "Idempotency-Key": "accept-1"}
    accepted = await client.post(url, json={"rank": 1}, headers=headers)
    replayed = await client.post(url, json={"rank": 1}, headers=headers)
    assert accepted.status_code == replayed.status_code == 200
    assert accepted.json()["placement_ids"] == replayed.json()["placement_ids"]


async def test_a_youths_requests_are_listed_newest_first_each_with_its_status_now(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker, clock: FakeClock, resources: Resources
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1)
    youth, other = await make_youth(client, caseworker), await make_youth(client, caseworker)
    first = await ask(client, caseworker, [youth])
    await ask(client, caseworker, [other])
    second = await ask(client, caseworker, [youth])

    async def listed(who: Any, **params: Any) -> dict[str, Any]:
        answer = await client.get(
            f"{API}/match-requests", params={"youth_id": youth["id"], **params}, headers=who.headers
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    mine = await listed(caseworker)
    assert [(r["id"], r["status"]) for r in mine["items"]] == [
        (second["id"], "proposed"),
        (first["id"], "cancelled"),  # replaced by the second
    ]
    assert mine["total"] == 2 and mine["items"][1]["closed_at"] and mine["items"][0]["closed_at"] is None
    assert mine["items"][0]["expires_at"] == second["expires_at"]
    assert (await listed(staff))["items"] == mine["items"]
    assert [r["id"] for r in (await listed(caseworker, limit=1, offset=1))["items"]] == [first["id"]]
    for _ in range(resources.settings.match_valid_minutes // 15):  # a session idle 30 minutes ends
        assert (await listed(caseworker))["items"][0]["status"] == "proposed"
        clock.advance(minutes=15)
    clock.advance(minutes=1)
    statuses = [r["status"] for r in (await listed(caseworker))["items"]]
    assert statuses == ["expired", "cancelled"]  # as the request reads itself
    assert (await answer_of(client, caseworker, second["id"]))["status"] == "expired"
