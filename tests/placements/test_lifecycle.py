"""Holding a bed, confirming, ending and cancelling placements."""

from __future__ import annotations

from typing import Any

from tests.factories import API, make_safe_house, make_youth


async def test_staff_hold_confirm_and_end_a_placement(client: Any, sign_in: Any) -> None:
    staff = await sign_in("placement_staff")
    caseworker = await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, staff, caseworker)
    bed_id = house["bed_list"][0]["id"]

    held = await client.post(
        f"{API}/placements", json={"youth_id": youth["id"], "bed_id": bed_id}, headers=staff.headers
    )
    assert held.status_code == 201, held.text
    placement = held.json()
    assert placement["status"] == "held"
    bed = (await client.get(f"{API}/safe-houses/{house['id']}", headers=staff.headers)).json()["bed_list"][0]
    assert bed["status"] == "held"

    confirmed = await client.post(f"{API}/placements/{placement['id']}/confirm", headers=staff.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "active"
    youth_now = (await client.get(f"{API}/youth/{youth['id']}", headers=staff.headers)).json()
    assert youth_now["status"] == "placed"

    ended = await client.post(
        f"{API}/placements/{placement['id']}/end",
        json={"reason": "reunified_with_family"},
        headers=staff.headers,
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "ended"
    bed = (await client.get(f"{API}/safe-houses/{house['id']}", headers=staff.headers)).json()["bed_list"][0]
    assert bed["status"] == "available"
