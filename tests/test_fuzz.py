"""Random bodies and queries on every endpoint: refused with a problem, never a 500.

Bodies are drawn from a seeded generator (the app runs in the tests' event loop, where
hypothesis cannot drive an async test), so a failure names a body that can be replayed.
"""

from __future__ import annotations

import random
import re
from typing import Any

import httpx
from litestar import Litestar

from tests.core.test_route_guards import concrete, http_routes
from tests.factories import API, make_safe_house, make_youth
from tests.test_bad_input import admitted_user_role

SEED = 9457
EXAMPLES_PER_ROUTE = 40
AWKWARD_TEXT = [
    "",
    "\u0000",
    "a\u0000b",
    "2026-13-45",
    "00000000-0000-4000-8000-000000000000",
    "x" * 5000,
    "female",
    "trauma_therapy",
    "1e309",
    "-0",
    "Ω≈ç√∫",
]


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, 2**63, -(2**70), rng.randint(-1000, 1000)])
    if kind == 3:
        return rng.choice([0.5, -90.5, 1e308, -1e-308, rng.uniform(-500, 500)])
    if kind in (4, 5):
        return rng.choice(AWKWARD_TEXT)
    if kind in (6, 7):
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(["lat", "lon", "radius_km", "label", "x"]): random_json(rng, depth + 1) for _ in range(3)
    }


def openapi_path(path: str) -> str:
    return re.sub(r":\w+}", "}", path)


def body_fields(app: Litestar) -> dict[str, list[str]]:
    """Property names of each route's request body, from the OpenAPI document."""
    spec = app.openapi_schema.to_schema()
    schemas = spec["components"]["schemas"]
    fields: dict[str, list[str]] = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = content.get("schema", {}).get("$ref")
            if ref:
                fields[f"{method.upper()} {path}"] = sorted(
                    schemas[ref.rsplit("/", 1)[1]].get("properties", {})
                )
    return fields


async def test_random_bodies_never_cause_a_server_error(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any
) -> None:
    rng = random.Random(SEED)
    fields = body_fields(app)
    targets = [(m, p, h) for m, p, h in http_routes(app) if f"{m} {openapi_path(p)}" in fields]
    assert len(targets) >= 8, "expected the creating and changing routes in the OpenAPI document"
    roles = {admitted_user_role(h) for _, _, h in targets if not h.opt.get("public")}
    users = {role: await sign_in(role) for role in roles}
    ids = await real_records(client, users["placement_staff"], await sign_in("caseworker"))
    for method, path, handler in targets:
        names = fields[f"{method} {openapi_path(path)}"]
        headers = {} if handler.opt.get("public") else users[admitted_user_role(handler)].headers
        for _ in range(EXAMPLES_PER_ROUTE):
            body = {name: random_json(rng) for name in rng.sample(names, rng.randint(0, len(names)))}
            response = await client.request(method, with_ids(path, ids), json=body, headers=headers)
            assert response.status_code < 500, f"{method} {path} {body!r}: {response.text[:300]}"


async def real_records(client: httpx.AsyncClient, staff: Any, caseworker: Any) -> dict[str, str]:
    """A safe house, a bed, a youth, a hold and a user, so paths reach the services' logic."""
    house = await make_safe_house(client, staff, beds=2)
    youth = await make_youth(client, staff, caseworker)
    body = {"youth_id": youth["id"], "bed_id": house["bed_list"][0]["id"]}
    held = (await client.post(f"{API}/placements", json=body, headers=staff.headers)).json()
    return {
        "safe-houses": house["id"],
        "beds": house["bed_list"][1]["id"],
        "youth": youth["id"],
        "placements": held["id"],
        "users": str(caseworker.id),
    }


def with_ids(path: str, ids: dict[str, str]) -> str:
    """The route's path with the id of the real record of its kind."""
    kind = path.removeprefix(f"{API}/").split("/", 1)[0]
    return concrete(path.replace("{id:uuid}", ids[kind])) if kind in ids else concrete(path)


async def test_random_query_strings_never_cause_a_server_error(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    rng = random.Random(SEED)
    staff = await sign_in("placement_staff")
    names = [
        "region",
        "county",
        "age",
        "gender",
        "services",
        "near",
        "within_km",
        "limit",
        "offset",
        "status",
        "q",
    ]
    values = [*AWKWARD_TEXT, "12", "-3", "42.3,-71.1", "999,999", "5", "nan", "inf", "held", "1e3"]
    for _ in range(150):
        params = {name: rng.choice(values) for name in rng.sample(names, rng.randint(1, 5))}
        for path in (
            "/api/v1/beds/available",
            "/api/v1/youth",
            "/api/v1/placements",
            "/api/v1/municipalities",
        ):
            response = await client.get(path, params=params, headers=staff.headers)
            assert response.status_code < 500, f"{path} {params!r}: {response.text[:300]}"
