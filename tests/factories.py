"""Build valid records through the API in one line each."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from httpx import AsyncClient

from tests.conftest import SignedIn, municipality_id

API = "/api/v1"
BOSTON = municipality_id("Suffolk", "Boston")
WORCESTER = municipality_id("Worcester", "Worcester")
SPRINGFIELD = municipality_id("Hampden", "Springfield")


def safe_house_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Harbor House {uuid.uuid4().hex[:6]}",
        "operator": "Bridge Youth Services",
        "street_address": "12 Example Street, Boston, MA 02118",
        "lat": 42.3401,
        "lon": -71.0712,
        "municipality_id": str(BOSTON),
        "min_age": 12,
        "max_age": 18,
        "genders": ["female", "nonbinary"],
        "services": ["trauma_therapy", "education"],
        "languages": ["en", "es"],
    }
    body.update(overrides)
    return body


async def make_safe_house(
    client: AsyncClient, staff: SignedIn, beds: int = 2, **overrides: Any
) -> dict[str, Any]:
    """A safe house with `beds` beds (labelled B1, B2, ...); returns its detail."""
    response = await client.post(
        f"{API}/safe-houses", json=safe_house_body(**overrides), headers=staff.headers
    )
    assert response.status_code == 201, response.text
    house = response.json()
    for n in range(1, beds + 1):
        bed = await client.post(
            f"{API}/safe-houses/{house['id']}/beds", json={"label": f"B{n}"}, headers=staff.headers
        )
        assert bed.status_code == 201, bed.text
    detail = await client.get(f"{API}/safe-houses/{house['id']}", headers=staff.headers)
    return dict(detail.json())


def youth_body(caseworker_id: uuid.UUID | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "case_reference": f"MA-{uuid.uuid4().hex[:10]}",
        "date_of_birth": date(date.today().year - 15, 3, 1).isoformat(),
        "gender": "female",
        "origin_municipality_id": str(WORCESTER),
        "languages": ["en"],
        "required_services": ["trauma_therapy"],
        "urgency": 4,
        "max_distance_km": 120,
    }
    if caseworker_id is not None:
        body["caseworker_id"] = str(caseworker_id)
    body.update(overrides)
    return body


async def make_youth(
    client: AsyncClient, by: SignedIn, caseworker: SignedIn | None = None, **overrides: Any
) -> dict[str, Any]:
    caseworker_id = (caseworker or by).id if by.role != "caseworker" else None
    response = await client.post(
        f"{API}/youth", json=youth_body(caseworker_id, **overrides), headers=by.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
