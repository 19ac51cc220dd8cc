"""Deny by default: every route is guarded or explicitly public, and each role gets exactly its routes."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar, asgi, get
from litestar.exceptions import ImproperlyConfiguredException
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler

from placement.core.http import require_screening, screen_request
from placement.core.security.guards import allow
from placement.core.security.roles import ROLES

PUBLIC_ROUTES = {
    ("POST", "/api/v1/auth/login"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
}
SCHEMA_PREFIX = "/schema"


def http_routes(app: Litestar, *, pages: bool = False) -> list[tuple[str, str, HTTPRouteHandler]]:
    """(method, path, handler) for every route of the API (or of the pages), OPTIONS excepted,
    sign-out last."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if bool(handler.opt.get("pages")) != pages:
                continue
            for method in sorted(getattr(handler, "http_methods", ())):
                if method != "OPTIONS":
                    found.append((method, route.path, handler))
    return sorted(found, key=lambda r: (r[1] == "/api/v1/auth/logout", r[1], r[0]))


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: str(uuid.uuid4()) if m[2] == "uuid" else "x", path)


def test_every_route_names_its_roles_or_is_explicitly_public(app: Litestar) -> None:
    public, unguarded = set(), []
    for method, path, handler in http_routes(app):
        if handler.opt.get("public"):
            public.add((method, path))
        elif not handler.opt.get("roles"):
            unguarded.append(f"{method} {path}")
    assert unguarded == []
    assert {r for r in public if not r[1].startswith(SCHEMA_PREFIX)} == PUBLIC_ROUTES


async def test_every_guarded_route_refuses_a_request_without_a_token(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    for method, path, handler in http_routes(app):
        if handler.opt.get("public"):
            continue
        response = await client.request(method, concrete(path), json={})
        assert response.status_code == 401, f"{method} {path}"
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_every_guarded_route_refuses_a_forged_token(app: Litestar, client: httpx.AsyncClient) -> None:
    headers = {"Authorization": "Bearer not-a-real-token"}
    for method, path, handler in http_routes(app):
        if not handler.opt.get("public"):
            response = await client.request(method, concrete(path), json={}, headers=headers)
            assert response.status_code == 401, f"{method} {path}"


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_is_admitted_to_exactly_the_routes_that_list_it(
    role: str, app: Litestar, client: httpx.AsyncClient, sign_in: Any
) -> None:
    user = await sign_in(role)
    for method, path, handler in http_routes(app):
        if handler.opt.get("public"):
            continue
        response = await client.request(method, concrete(path), json={}, headers=user.headers)
        where = f"{role} {method} {path}: {response.status_code} {response.text[:200]}"
        if role in handler.opt["roles"]:
            assert response.status_code not in (401, 403, 500), where
        else:
            assert response.status_code == 403, where


def test_the_openapi_document_lists_the_problems_of_every_guarded_route(app: Litestar) -> None:
    spec = app.openapi_schema.to_schema()
    for method, path, handler in http_routes(app):
        if handler.opt.get("public"):
            continue
        documented = re.sub(r":\w+}", "}", path)
        responses = spec["paths"][documented][method.lower()]["responses"]
        for status in ("400", "401", "403", "404", "422"):
            assert "application/problem+json" in responses[status]["content"], f"{method} {path} {status}"


async def own_hook(request: Any) -> None:
    return None


def nothing() -> None:
    return None


async def mounted(scope: Any, receive: Any, send: Any) -> None:
    return None


ADMIN_ONLY = allow("admin", entity="test")


@pytest.mark.parametrize(
    "handler",
    [
        get("/own-hook", before_request=own_hook, opt=ADMIN_ONLY, sync_to_thread=False)(nothing),
        get("/cached", cache=True, opt=ADMIN_ONLY, sync_to_thread=False)(nothing),
        asgi("/mounted", opt=ADMIN_ONLY, copy_scope=True)(mounted),
    ],
    ids=["own before_request", "cached", "not HTTP"],
)
def test_an_app_with_a_route_the_guard_would_not_see_is_refused(handler: BaseRouteHandler) -> None:
    app = Litestar(route_handlers=[handler], before_request=screen_request)
    with pytest.raises(ImproperlyConfiguredException, match="skips the guard"):
        require_screening(app)
