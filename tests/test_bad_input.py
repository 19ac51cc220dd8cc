"""Bad input on every endpoint gets an RFC 9457 problem, never a 500."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar
from sqlalchemy import Index, UniqueConstraint

from placement.core.body_depth import nested_deeper_than
from placement.core.errors import CONSTRAINT_MEANINGS
from placement.models import Base
from tests.core.test_route_guards import concrete, http_routes

BAD_BODIES = {
    "malformed JSON": b'{"name": ',
    "not an object": b"[1, 2, 3]",
    "unknown field": b'{"surely_not_a_field": true}',
    "wrong types": b'{"youth_id": 12, "label": [], "username": {}, "reason": 5}',
    "nested 20 deep": b'{"label": ' + b"[" * 20 + b"]" * 20 + b', "username": {"a": {"a": {}}}}',
    "many brackets, some in strings": b'{"reason": "[{\\"[[", "label": [' + b"[[{}]]," * 100 + b'"]]\\\\"]}',
    "too deep: arrays, 1,000 levels": b"[" * 1000 + b"]" * 1000,
    "too deep: objects, 1,000 levels": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "too deep: arrays, 100,000 levels": b"[" * 100_000 + b"]" * 100_000,
    "too deep: objects, 100,000 levels, unclosed": b'{"label": ' + b'{"a": ' * 100_000,
}
TOO_DEEP = "The request body is nested too deeply (at most 64 levels)."


def admitted_user_role(handler: Any) -> str:
    roles = sorted(handler.opt["roles"])
    return "placement_staff" if "placement_staff" in roles else roles[0]


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
async def test_every_endpoint_with_a_body_answers_bad_bodies_with_a_problem(
    case: str, app: Litestar, client: httpx.AsyncClient, sign_in: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Sign-in included; a body nested too deeply is refused before decoding, with nothing logged."""
    users: dict[str, Any] = {}
    for method, path, handler in http_routes(app):
        if method not in ("POST", "PATCH", "PUT") or "data" not in handler.parsed_fn_signature.parameters:
            continue
        headers = {"content-type": "application/json"}
        if not handler.opt.get("public"):
            role = admitted_user_role(handler)
            users.setdefault(role, await sign_in(role))
            headers.update(users[role].headers)
        response = await client.request(method, concrete(path), content=BAD_BODIES[case], headers=headers)
        where = f"{case}: {method} {path} -> {response.status_code} {response.text[:200]}"
        assert response.status_code in (400, 404, 422), where
        assert response.headers["content-type"].startswith("application/problem+json"), where
        assert response.json()["detail"], where
        assert (response.json()["detail"] == TOO_DEEP) == case.startswith("too deep"), where
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], case


async def test_every_list_endpoint_refuses_a_bad_page(
    app: Litestar, client: httpx.AsyncClient, sign_in: Any
) -> None:
    users: dict[str, Any] = {}
    for method, path, handler in http_routes(app):
        if method != "GET" or "limit" not in handler.parsed_fn_signature.parameters:
            continue
        role = admitted_user_role(handler)
        users.setdefault(role, await sign_in(role))
        bad_pages: list[dict[str, Any]] = [{"limit": 0}, {"limit": "ten"}, {"limit": 100_000}]
        if "offset" in handler.parsed_fn_signature.parameters:
            bad_pages.append({"offset": -5})
        for params in bad_pages:
            response = await client.get(concrete(path), params=params, headers=users[role].headers)
            assert response.status_code == 400, f"{path} {params}: {response.text[:200]}"
            assert response.headers["content-type"].startswith("application/problem+json")


async def test_an_unknown_route_and_a_wrong_method_are_problems(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    staff = await sign_in("placement_staff")
    missing = await client.get("/api/v1/nowhere", headers=staff.headers)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )
    wrong = await client.delete("/api/v1/safe-houses", headers=staff.headers)
    assert wrong.status_code == 405 and wrong.headers["content-type"].startswith("application/problem+json")


async def test_problems_follow_rfc_9457(client: httpx.AsyncClient, sign_in: Any) -> None:
    staff = await sign_in("placement_staff")
    response = await client.get(
        f"/api/v1/safe-houses/{'0' * 8}-0000-4000-8000-{'0' * 12}", headers=staff.headers
    )
    problem = response.json()
    assert response.status_code == 404
    assert problem["type"] == "about:blank" and problem["title"] == "Not Found" and problem["status"] == 404
    assert problem["instance"].startswith("/api/v1/safe-houses/")
    assert problem["detail"] and problem["request_id"] == response.headers["x-request-id"]


def test_every_unique_constraint_has_a_sentence_for_people() -> None:
    """A write that loses a race past the services' checks still gets a 409 in words."""
    names = {
        str(item.name)
        for table in Base.metadata.tables.values()
        for item in [*table.constraints, *table.indexes]
        if isinstance(item, UniqueConstraint) or (isinstance(item, Index) and item.unique)
    }
    # Written only by the audit sealer under its lock, and by the reference loader's upserts.
    names -= {
        "uq_audit_log_hash",
        "uq_audit_log_seq",
        "uq_regions_name",
        "uq_counties_name",
        "uq_municipalities_county_id_name",
    }
    assert names - set(CONSTRAINT_MEANINGS) == set()


JSON_VALUES = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ ax', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\', max_size=3), inner)
    ),
    max_leaves=30,
)


def nesting(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(nesting, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(nesting, value.values()), default=0)
    return 0


@given(JSON_VALUES, st.integers(min_value=0, max_value=6))
def test_the_depth_scan_agrees_with_the_parsed_nesting(value: object, limit: int) -> None:
    """Brackets, quotes and backslashes inside strings do not confuse the scan."""
    body = json.dumps(value).encode()
    assert nested_deeper_than(body, limit) == (nesting(value) > limit)
