"""Batch rematch: every open request solved jointly, reviewed, and accepted as a whole."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from arq.worker import Worker

from placement.core.resources import Resources
from tests.conftest import SignedIn
from tests.factories import API, make_safe_house, make_youth
from tests.matches.asking import ask


async def batch_answer(client: httpx.AsyncClient, staff: SignedIn, batch_id: str) -> dict[str, Any]:
    for _ in range(200):
        batch = await client.get(f"{API}/matching/batch/{batch_id}", headers=staff.headers)
        assert batch.status_code == 200, batch.text
        if batch.json()["status"] not in ("queued", "solving"):
            return dict(batch.json())
        await asyncio.sleep(0.05)
    raise AssertionError(f"batch {batch_id} did not finish")


async def test_a_batch_places_the_urgent_youth_in_the_only_bed_both_fit_and_the_other_elsewhere(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, worker: Worker
) -> None:
    """One request at a time, each youth's best is the shared bed; jointly, both are placed."""
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    shared = await make_safe_house(client, staff, beds=1, services=["trauma_therapy", "education"])
    only_for_calm = await make_safe_house(client, staff, beds=1, services=["trauma_therapy"])
    urgent = await make_youth(client, caseworker, urgency=5, required_services=["education"])
    calm = await make_youth(client, caseworker, urgency=2, required_services=["trauma_therapy"])
    for youth in (urgent, calm):
        assert (await ask(client, caseworker, [youth]))["status"] == "proposed"
    started = await client.post(f"{API}/matching/batch", headers=staff.headers)
    assert started.status_code == 202, started.text
    busy = await client.post(f"{API}/matching/batch", headers=staff.headers)
    assert busy.status_code in (202, 409)  # 409 while the first is queued or solving
    batch = await batch_answer(client, staff, started.json()["id"])
    assert batch["status"] == "solved" and batch["solve_status"] == "optimal" and batch["gap"] == 0
    assert batch["placed"] == 2 and batch["placed_by_urgency"] == {"2": 1, "5": 1}
    sites = {r["youth_ids"][0]: r["site"]["id"] for r in batch["requests"]}
    assert sites == {urgent["id"]: shared["id"], calm["id"]: only_for_calm["id"]}
    accepted = await client.post(f"{API}/matching/batch/{batch['id']}/accept", headers=staff.headers)
    assert accepted.status_code == 200, accepted.text
    assert [o["held"] for o in accepted.json()["outcome"]] == [True, True]
    again = await client.post(f"{API}/matching/batch/{batch['id']}/accept", headers=staff.headers)
    assert again.status_code == 409


async def test_accepting_a_batch_holds_what_it_can_and_reports_each_request_it_could_not(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    houses = [await make_safe_house(client, staff, beds=1) for _ in range(2)]
    youth = [await make_youth(client, caseworker) for _ in range(2)]
    for y in youth:
        await ask(client, caseworker, [y])
    started = await client.post(f"{API}/matching/batch", headers=staff.headers)
    batch = await batch_answer(client, staff, started.json()["id"])
    assert batch["placed"] == 2
    taken = batch["requests"][0]["assignments"][0]["target_id"]
    stranger = await make_youth(client, caseworker)
    held = await client.post(
        f"{API}/placements", json={"youth_id": stranger["id"], "bed_id": taken}, headers=staff.headers
    )
    assert held.status_code == 201
    accepted = await client.post(f"{API}/matching/batch/{batch['id']}/accept", headers=staff.headers)
    outcome = accepted.json()["outcome"]
    assert [o["held"] for o in outcome] == [False, True]
    assert "already held or occupied" in outcome[0]["reason"]
    assert {h["id"] for h in houses} >= {r["site"]["id"] for r in batch["requests"]}


async def test_accepting_some_of_a_batch_holds_only_the_chosen_and_leaves_the_others_open(
    client: httpx.AsyncClient, sign_in: Any, worker: Worker
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    for _ in range(2):
        await make_safe_house(client, staff, beds=1)
    youth = [await make_youth(client, caseworker) for _ in range(2)]
    for y in youth:
        await ask(client, caseworker, [y])
    started = await client.post(f"{API}/matching/batch", headers=staff.headers)
    batch = await batch_answer(client, staff, started.json()["id"])
    chosen, left = (r["request_id"] for r in batch["requests"])
    accept = f"{API}/matching/batch/{batch['id']}/accept"

    stranger = await client.post(accept, json={"request_ids": [str(uuid.uuid4())]}, headers=staff.headers)
    none = await client.post(accept, json={"request_ids": []}, headers=staff.headers)
    assert (stranger.status_code, none.status_code) == (422, 400), (stranger.text, none.text)
    assert (await batch_answer(client, staff, batch["id"]))["status"] == "solved"  # nothing written

    accepted = await client.post(accept, json={"request_ids": [chosen]}, headers=staff.headers)
    assert accepted.status_code == 200, accepted.text
    assert [(o["request_id"], o["held"]) for o in accepted.json()["outcome"]] == [(chosen, True)]
    statuses = {
        r: (await client.get(f"{API}/match-requests/{r}", headers=staff.headers)).json()["status"]
        for r in (chosen, left)
    }
    assert statuses == {chosen: "accepted", left: "proposed"}
    listed = (await client.get(f"{API}/matching/batch", headers=staff.headers)).json()
    assert listed["total"] == 1
    assert {k: listed["items"][0][k] for k in ("id", "status", "requests", "placed")} == {
        "id": batch["id"],
        "status": "accepted",
        "requests": 2,
        "placed": 2,
    }
