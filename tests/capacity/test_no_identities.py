"""Nothing a program lead reads or exports names a youth, a family, a caregiver or an address."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from arq.worker import Worker

from placement.core.resources import Resources
from placement.worker import snapshot_capacity
from tests.capacity.scene import build_scene
from tests.conftest import FakeClock
from tests.factories import API


async def test_no_capacity_answer_or_export_holds_an_id_a_name_or_an_address_from_the_records(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock, worker: Worker
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    scene = await build_scene(client, resources, staff, await sign_in("caseworker"), clock())
    await snapshot_capacity({"resources": resources})
    target = {
        "title": "Beds",
        "metric": "safe_house_beds",
        "scope": "statewide",
        "value": 9,
        "due_on": "2030-01-01",
    }
    made = await client.post(f"{API}/capacity/targets", json=target, headers=lead.headers)
    asked = await client.post(f"{API}/capacity/what-if", json={"reopening": {}}, headers=lead.headers)
    assert made.status_code == 201 and asked.status_code == 202
    what_if = f"/capacity/what-if/{asked.json()['id']}"
    for _ in range(600):
        status = (await client.get(f"{API}{what_if}", headers=lead.headers)).json()["status"]
        if status in ("answered", "failed"):
            break
        await asyncio.sleep(0.05)
    assert status == "answered"
    reads = [
        *(f"/capacity?by={by}" for by in ("region", "county", "kind")),
        *(
            f"/capacity/history?by={by}&every={every}"
            for by in ("region", "county", "kind")
            for every in ("day", "week")
        ),
        "/capacity/targets",
        f"/capacity/targets/{made.json()['id']}",
        "/capacity/unmet-need",
        "/capacity/training",
        "/capacity/what-if",
        what_if,
    ]

    answers = []
    for path in reads:
        for accept in ("application/json", "text/csv"):
            answer = await client.get(f"{API}{path}", headers={**lead.headers, "Accept": accept})
            assert answer.status_code == 200, (path, answer.text)
            answers.append((path, accept, answer.text))

    assert len(scene.secrets) > 40
    assert any("Boston" in text for _, _, text in answers)  # the search does see the answers' words
    for path, accept, text in answers:
        found = [secret for secret in scene.secrets if secret.lower() in text.lower()]
        assert found == [], (path, accept, found)
