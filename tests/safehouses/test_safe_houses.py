"""Safe houses and beds: registration, derived bed status, and who sees the address."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from placement.core.audit import AuditEntry
from placement.core.resources import Resources
from tests.conftest import region_id
from tests.factories import API, WORCESTER, make_safe_house, make_youth, safe_house_body

ADDRESS = "77 Confidential Lane, Boston, MA 02118"
LAT, LON = 42.33117, -71.08419


async def every_readable_response(client: httpx.AsyncClient, user: Any, house: dict[str, Any]) -> list[str]:
    """Bodies of every read a role might use to learn about the house."""
    urls = [
        f"{API}/safe-houses",
        f"{API}/safe-houses/{house['id']}",
        f"{API}/beds/available",
        f"{API}/beds/available?near=42.36,-71.06",
        f"{API}/beds/available?near=42.36,-71.06&within_km=25",
        f"{API}/placements",
        f"{API}/regions",
        f"{API}/municipalities?q=Boston",
    ]
    return [(await client.get(url, headers=user.headers)).text for url in urls]


@pytest.mark.parametrize("role", ["caseworker", "program_lead", "caregiver"])
async def test_the_address_and_position_never_reach_a_role_that_may_not_see_them(
    role: str, client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, user = await sign_in("placement_staff"), await sign_in(role)
    house = await make_safe_house(client, staff, beds=2, street_address=ADDRESS, lat=LAT, lon=LON)
    youth = await make_youth(client, staff, user if role == "caseworker" else await sign_in("caseworker"))
    await client.post(
        f"{API}/placements",
        json={"youth_id": youth["id"], "bed_id": house["bed_list"][0]["id"]},
        headers=staff.headers,
    )
    for body in await every_readable_response(client, user, house):
        assert "Confidential Lane" not in body and "street_address" not in body
        assert str(LAT) not in body and str(LON) not in body


@pytest.mark.parametrize("role", ["placement_staff", "admin"])
async def test_staff_and_admins_see_the_address_and_the_read_is_audited(
    role: str, client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, user = await sign_in("placement_staff"), await sign_in(role)
    house = await make_safe_house(client, staff, beds=1, street_address=ADDRESS, lat=LAT, lon=LON)
    detail = (await client.get(f"{API}/safe-houses/{house['id']}", headers=user.headers)).json()
    assert (detail["street_address"], detail["lat"], detail["lon"]) == (ADDRESS, LAT, LON)
    listed = (await client.get(f"{API}/safe-houses", headers=user.headers)).json()
    assert listed["items"][0]["street_address"] == ADDRESS
    async with resources.sessionmaker() as session:
        reads = (
            await session.execute(
                select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.detail)
                .where(AuditEntry.actor_id == user.id)
                .order_by(AuditEntry.id)
            )
        ).all()
    assert [(a, e) for a, e, _ in reads] == [
        ("read_safe_house_location", house["id"]),
        ("list_safe_house_locations", None),
    ]
    assert reads[1][2] == {"ids": house["id"]}


async def test_caseworkers_see_the_place_but_not_where_exactly(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1)
    detail = (await client.get(f"{API}/safe-houses/{house['id']}", headers=caseworker.headers)).json()
    assert detail["place"] == {
        "municipality_id": house["place"]["municipality_id"],
        "municipality": "Boston",
        "county": "Suffolk",
        "region": "Boston",
    }
    assert {"street_address", "lat", "lon"}.isdisjoint(detail)


async def test_bed_status_follows_placements_and_service(client: httpx.AsyncClient, sign_in: Any) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=3)
    b1, b2, b3 = (b["id"] for b in house["bed_list"])
    youth = [await make_youth(client, staff, caseworker) for _ in range(2)]
    held = (
        await client.post(
            f"{API}/placements", json={"youth_id": youth[0]["id"], "bed_id": b1}, headers=staff.headers
        )
    ).json()
    active = (
        await client.post(
            f"{API}/placements", json={"youth_id": youth[1]["id"], "bed_id": b2}, headers=staff.headers
        )
    ).json()
    await client.post(f"{API}/placements/{active['id']}/confirm", headers=staff.headers)
    out = await client.patch(
        f"{API}/beds/{b3}", json={"out_of_service_reason": "Water damage"}, headers=staff.headers
    )
    assert out.status_code == 200 and out.json()["status"] == "out_of_service"
    detail = (await client.get(f"{API}/safe-houses/{house['id']}", headers=staff.headers)).json()
    assert [b["status"] for b in detail["bed_list"]] == ["held", "occupied", "out_of_service"]
    assert detail["beds"] == {"total": 3, "available": 0, "held": 1, "occupied": 1, "out_of_service": 1}
    busy = await client.patch(
        f"{API}/beds/{b1}", json={"out_of_service_reason": "Repairs"}, headers=staff.headers
    )
    assert busy.status_code == 409 and "B1" in busy.json()["detail"]
    assert held["status"] == "held"
    back = await client.patch(f"{API}/beds/{b3}", json={"out_of_service_reason": None}, headers=staff.headers)
    assert back.json()["status"] == "available"


async def test_a_safe_house_with_a_youth_in_it_cannot_be_deactivated(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1)
    youth = await make_youth(client, staff, caseworker)
    await client.post(
        f"{API}/placements",
        json={"youth_id": youth["id"], "bed_id": house["bed_list"][0]["id"]},
        headers=staff.headers,
    )
    refused = await client.patch(
        f"{API}/safe-houses/{house['id']}", json={"active": False}, headers=staff.headers
    )
    assert refused.status_code == 409


async def test_safe_house_names_and_bed_labels_are_unique(client: httpx.AsyncClient, sign_in: Any) -> None:
    staff = await sign_in("placement_staff")
    house = await make_safe_house(client, staff, beds=1, name="Maple Lodge")
    again = await client.post(
        f"{API}/safe-houses", json=safe_house_body(name="Maple Lodge"), headers=staff.headers
    )
    assert again.status_code == 409 and "Maple Lodge" in again.json()["detail"]
    dup = await client.post(
        f"{API}/safe-houses/{house['id']}/beds", json={"label": "B1"}, headers=staff.headers
    )
    assert dup.status_code == 409


@pytest.mark.parametrize(
    ("override", "status", "fragment"),
    [
        ({"lat": 95.0}, 400, "lat"),
        ({"lon": -181}, 400, "lon"),
        ({"min_age": 30}, 400, "min_age"),
        ({"min_age": 17, "max_age": 12}, 422, "min_age 17 is above max_age 12"),
        ({"genders": []}, 400, "genders"),
        ({"genders": ["robot"]}, 400, "genders"),
        ({"services": ["yoga"]}, 422, "unknown code(s) yoga"),
        ({"municipality_id": "00000000-0000-4000-8000-000000000000"}, 422, "no municipality"),
        ({"street_address": 12}, 400, "street_address"),
        ({"nickname": "x"}, 400, "nickname"),
    ],
)
async def test_bad_safe_house_input_gets_a_problem_naming_the_field(
    override: dict[str, Any], status: int, fragment: str, client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    response = await client.post(
        f"{API}/safe-houses", json=safe_house_body(**override), headers=staff.headers
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fragment in response.json()["detail"]
    listed = (await client.get(f"{API}/safe-houses", headers=staff.headers)).json()
    assert listed["total"] == 0  # nothing half-written


async def test_available_beds_filter_by_age_gender_services_and_region(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    boston = await make_safe_house(
        client,
        staff,
        beds=2,
        name="Boston Girls",
        genders=["female"],
        services=["trauma_therapy", "education", "medical"],
    )
    await make_safe_house(
        client, staff, beds=1, name="Boston Boys", genders=["male"], min_age=14, services=["life_skills"]
    )
    worcester = await make_safe_house(
        client,
        staff,
        beds=1,
        name="Worcester Home",
        municipality_id=str(WORCESTER),
        lat=42.2626,
        lon=-71.8023,
        genders=["female"],
        services=["trauma_therapy"],
    )

    async def names(**params: Any) -> list[str]:
        response = await client.get(f"{API}/beds/available", params=params, headers=staff.headers)
        assert response.status_code == 200, response.text
        return sorted({b["safe_house"] for b in response.json()["items"]})

    assert await names(gender="female") == ["Boston Girls", "Worcester Home"]
    assert await names(age=13) == ["Boston Girls", "Worcester Home"]
    assert await names(services="trauma_therapy,medical") == ["Boston Girls"]
    assert await names(services=["trauma_therapy", "education"]) == ["Boston Girls"]
    assert await names(region=str(region_id("Central"))) == ["Worcester Home"]
    near_worcester = await client.get(
        f"{API}/beds/available", params={"near": "42.27,-71.80"}, headers=staff.headers
    )
    items = near_worcester.json()["items"]
    assert items[0]["safe_house"] == "Worcester Home" and items[0]["distance_km"] < 2
    within = await names(near="42.27,-71.80", within_km=20)
    assert within == ["Worcester Home"]
    assert boston["id"] != worcester["id"]


async def test_caseworkers_get_distance_bands_and_may_filter_only_by_band_edges(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1)
    response = await client.get(
        f"{API}/beds/available", params={"near": "42.36,-71.06"}, headers=caseworker.headers
    )
    [bed] = response.json()["items"]
    assert bed["distance_band"] == "0-5 km" and "distance_km" not in bed
    fine = await client.get(
        f"{API}/beds/available", params={"near": "42.36,-71.06", "within_km": 3.7}, headers=caseworker.headers
    )
    assert fine.status_code == 422 and "band" in fine.json()["detail"]
    assert (
        await client.get(
            f"{API}/beds/available",
            params={"near": "42.36,-71.06", "within_km": 5},
            headers=caseworker.headers,
        )
    ).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"near": "north"},
        {"near": "91,0"},
        {"within_km": 10},
        {"age": 40},
        {"age": "x"},
        {"gender": "robot"},
        {"services": "yoga"},
        {"limit": 0},
        {"limit": 1000},
        {"offset": -1},
        {"region": "not-a-uuid"},
    ],
)
async def test_bad_availability_queries_get_a_problem(
    params: dict[str, Any], client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    response = await client.get(f"{API}/beds/available", params=params, headers=staff.headers)
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert json.loads(response.text)["detail"]


async def test_a_page_past_the_end_still_reports_the_total(client: httpx.AsyncClient, sign_in: Any) -> None:
    staff = await sign_in("placement_staff")
    await make_safe_house(client, staff, beds=3)
    page = (await client.get(f"{API}/beds/available", params={"offset": 10}, headers=staff.headers)).json()
    assert page["items"] == [] and page["total"] == 3
    first = (await client.get(f"{API}/beds/available", params={"limit": 2}, headers=staff.headers)).json()
    assert len(first["items"]) == 2 and first["total"] == 3


async def test_distance_bands_come_from_the_municipality_so_moving_the_point_cannot_locate_a_house(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    """The house lies 3 km north of Boston's centroid: a point 4 km north of the centroid is
    1 km from the house but 4 km from the centroid; then 7 km north: 4 km and 7 km."""
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    boston = (await client.get(f"{API}/municipalities", params={"q": "Boston"}, headers=staff.headers)).json()
    centroid = next(m for m in boston if m["name"] == "Boston")
    km = 1 / 111.2  # degrees of latitude per km
    await make_safe_house(client, staff, beds=1, lat=centroid["lat"] + 3 * km, lon=centroid["lon"])

    async def band(north_km: float) -> str:
        point = f"{centroid['lat'] + north_km * km},{centroid['lon']}"
        response = await client.get(
            f"{API}/beds/available", params={"near": point}, headers=caseworker.headers
        )
        [bed] = response.json()["items"]
        return str(bed["distance_band"])

    assert await band(4) == "0-5 km"
    assert await band(7) == "5-10 km"  # the house itself is only 4 km away
    exact = await client.get(
        f"{API}/beds/available",
        params={"near": f"{centroid['lat'] + 7 * km},{centroid['lon']}"},
        headers=staff.headers,
    )
    assert exact.json()["items"][0]["distance_km"] == pytest.approx(4.0, abs=0.1)
