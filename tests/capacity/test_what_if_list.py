"""The what-ifs asked so far: every reader's, newest first, a page at a time, with who asked."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import API


async def test_the_what_ifs_asked_are_listed_newest_first_with_who_asked_a_page_at_a_time(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    lead, admin, staff = (
        await sign_in("program_lead"),
        await sign_in("admin"),
        await sign_in("placement_staff"),
    )
    scenarios = [
        (lead, {"reopening": {}}),
        (admin, {"training": {"region": "Boston", "level": "standard"}}),
        (lead, {"reopening": {"region": "Western"}}),
    ]
    asked = []
    for who, scenario in scenarios:
        answer = await client.post(f"{API}/capacity/what-if", json=scenario, headers=who.headers)
        assert answer.status_code == 202, answer.text
        asked.append(answer.json()["id"])

    first = await client.get(f"{API}/capacity/what-if", params={"limit": 2}, headers=staff.headers)
    rest = await client.get(
        f"{API}/capacity/what-if", params={"limit": 2, "offset": 2}, headers=staff.headers
    )

    assert first.status_code == rest.status_code == 200, first.text
    assert (first.json()["total"], first.json()["limit"], first.json()["offset"]) == (3, 2, 0)
    listed = first.json()["items"] + rest.json()["items"]
    assert [run["id"] for run in listed] == asked[::-1]
    newest = listed[0]
    assert newest["requested_by"] == lead.username and listed[1]["requested_by"] == admin.username
    assert newest["scenario"] == {"training": None, "new_beds": None, "reopening": {"region": "Western"}}
    assert (newest["status"], newest["answered_at"]) == ("queued", None)  # no worker here
    assert set(newest) == {"id", "status", "scenario", "requested_at", "requested_by", "answered_at"}
    assert listed[0]["requested_at"] > listed[1]["requested_at"] > listed[2]["requested_at"]


async def test_no_what_if_asked_is_an_empty_page(client: httpx.AsyncClient, sign_in: Any) -> None:
    lead = await sign_in("program_lead")
    answer = await client.get(f"{API}/capacity/what-if", headers=lead.headers)
    assert answer.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
