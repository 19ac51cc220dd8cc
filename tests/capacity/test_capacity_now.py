"""`GET /capacity`: every count equals the count of the records the test made."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest

from placement.capacity.counts import TARGET_KINDS
from placement.core.resources import Resources
from tests.capacity.scene import Home, Person, Scene, build_scene, county_of, region_of
from tests.conftest import FakeClock
from tests.factories import API

Key = Callable[[Scene, Any], str]


def expected_row(scene: Scene, group: str, key: Key | None, by: str) -> dict[str, Any]:
    """The counts of the ledger's records in `group` (all of them when `key` is None)."""

    def mine(thing: Any) -> bool:
        return key is None or key(scene, thing) == group

    beds = [b for b in scene.beds if mine(b)]
    homes: list[Home] = [h for h in scene.homes if mine(h)]
    valid = [h for h in homes if h.licence == "valid"]

    def free(h: Home) -> int:
        return h.capacity - h.held - h.occupied

    people: list[Person] = [p for p in scene.youth if mine(p)]
    waits = [p.waited_days for p in people if p.status == "awaiting" and p.waited_days is not None]
    kind_row = by == "kind" and key is not None
    return {
        "beds": {
            s: sum(b.status == s for b in beds) for s in ("available", "held", "occupied", "out_of_service")
        },
        "households": len(homes),
        "places": {
            "licensed": sum(h.capacity for h in valid),
            "held": sum(h.held for h in valid),
            "occupied": sum(h.occupied for h in valid),
            "free_in_open_homes": sum(free(h) for h in valid if h.availability == "open"),
            "free_in_stale_homes": sum(free(h) for h in valid if h.availability == "stale"),
            "free_in_paused_or_closed_homes": sum(
                free(h) for h in valid if h.availability == "paused_or_closed"
            ),
            "in_homes_with_expired_licence": sum(h.capacity for h in homes if h.licence == "expired"),
            "in_unlicensed_homes": sum(h.capacity for h in homes if h.licence == "none"),
        },
        "ready_homes": {
            level: sum(level in h.ready for h in valid) for level in ("standard", "trafficking_specialized")
        },
        "youth": {
            "awaiting": None if kind_row else sum(p.status == "awaiting" for p in people),
            "held": sum(p.status == "held" for p in people),
            "placed": sum(p.status == "placed" for p in people),
            "median_wait_days": None if kind_row or not waits else statistics.median(waits),
            "p90_wait_days": None if kind_row or not waits else float(np.percentile(waits, 90)),
        },
    }


def by_region(scene: Scene, thing: Any) -> str:
    return region_of(scene, thing.municipality)


def by_county(scene: Scene, thing: Any) -> str:
    return county_of(scene, thing.municipality)


def by_kind(scene: Scene, thing: Any) -> str:
    if isinstance(thing, Person):
        return thing.kind or ""
    return thing.kind if isinstance(thing, Home) else "safe_house_bed"


def counted(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the answer without its name and id, waits rounded as the ledger's are."""
    found = {k: v for k, v in row.items() if k not in ("group", "id")}
    for wait in ("median_wait_days", "p90_wait_days"):
        if found["youth"][wait] is not None:
            found["youth"][wait] = round(found["youth"][wait], 1)
    return found


def rounded(row: dict[str, Any]) -> dict[str, Any]:
    for wait in ("median_wait_days", "p90_wait_days"):
        if row["youth"][wait] is not None:
            row["youth"][wait] = round(row["youth"][wait], 1)
    return row


@pytest.mark.parametrize(("by", "key"), [("region", by_region), ("county", by_county), ("kind", by_kind)])
async def test_capacity_counts_equal_the_records_counted_one_by_one(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock, by: str, key: Key
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    scene = await build_scene(client, resources, staff, await sign_in("caseworker"), clock())

    answer = await client.get(f"{API}/capacity", params={"by": by}, headers=lead.headers)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    rows = {row["group"]: row for row in body["rows"]}
    if by == "kind":
        assert list(rows) == list(TARGET_KINDS)
    for group, row in rows.items():
        assert counted(row) == rounded(expected_row(scene, group, key, by)), group
    assert counted(body["statewide"]) == rounded(expected_row(scene, "statewide", None, by))
    places = body["statewide"]["places"]  # every place in exactly one count
    licensed = (
        places["held"] + places["occupied"] + sum(v for k, v in places.items() if k.startswith("free_in"))
    )
    assert places["licensed"] == licensed
    everything = places["licensed"] + places["in_homes_with_expired_licence"] + places["in_unlicensed_homes"]
    assert everything == sum(h.capacity for h in scene.homes)
    groups = {key(scene, thing) for thing in (*scene.beds, *scene.homes, *scene.youth)} - {""}
    assert groups <= set(rows)  # every group the records fall in has its row


async def test_capacity_is_for_program_leads_admins_and_placement_staff_only(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    for role, status in (
        ("program_lead", 200),
        ("admin", 200),
        ("placement_staff", 200),
        ("caseworker", 403),
        ("caregiver", 403),
    ):
        user = await sign_in(role)
        assert (await client.get(f"{API}/capacity", headers=user.headers)).status_code == status, role
    assert (await client.get(f"{API}/capacity")).status_code == 401


CAPACITY_ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/capacity", None),
    ("GET", "/capacity/history", None),
    ("GET", "/capacity/targets", None),
    ("GET", "/capacity/unmet-need", None),
    ("GET", "/capacity/training", None),
    ("GET", "/capacity/what-if", None),
    ("POST", "/capacity/what-if", {"reopening": {}}),
    (
        "POST",
        "/capacity/targets",
        {"title": "t", "metric": "households", "scope": "statewide", "value": 1, "due_on": "2030-01-01"},
    ),
]


@pytest.mark.parametrize(("method", "path", "body"), CAPACITY_ROUTES)
@pytest.mark.parametrize("role", ["caseworker", "caregiver"])
async def test_no_capacity_route_admits_caseworkers_or_caregivers(
    client: httpx.AsyncClient, sign_in: Any, method: str, path: str, body: Any, role: str
) -> None:
    user = await sign_in(role)
    answer = await client.request(method, f"{API}{path}", json=body, headers=user.headers)
    assert answer.status_code == 403, answer.text


async def test_placement_staff_read_capacity_but_set_no_target(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    body = dict(CAPACITY_ROUTES[-1][2] or {})
    made = await client.post(f"{API}/capacity/targets", json=body, headers=lead.headers)
    assert made.status_code == 201
    patched = await client.patch(
        f"{API}/capacity/targets/{made.json()['id']}", json={"value": 2}, headers=staff.headers
    )
    assert patched.status_code == 403
    assert (await client.post(f"{API}/capacity/targets", json=body, headers=staff.headers)).status_code == 403
    assert (
        await client.get(f"{API}/capacity/targets/{made.json()['id']}", headers=staff.headers)
    ).status_code == 200
