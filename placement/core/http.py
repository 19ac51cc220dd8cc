"""Request plumbing: request ids, the per-request transaction and the injected dependencies."""

from __future__ import annotations

import functools
import random
import re
import secrets
import time
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Annotated, Any, TypeAlias

from litestar import Litestar, Request, Response
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException, ImproperlyConfiguredException
from litestar.handlers import BaseRouteHandler, HTTPRouteHandler
from litestar.params import HeaderParameter
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.path import normalize_path
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core import audit
from placement.core.body_depth import refuse_deep_bodies
from placement.core.db import pooled_driver
from placement.core.errors import Unauthorized
from placement.core.idempotency import IdempotentCreate
from placement.core.logs import REQUEST_ID
from placement.core.resources import Resources
from placement.core.security.guards import ANONYMOUS, authorize
from placement.core.uow import unit_of_work

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,80}$")
POLICY = (
    "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""What a page may load and do: its own style sheets (and the charts' inline SVG styles), its own
images, forms posted to this site only, and no script at all, so markup slipped into a page cannot
run. An API answer loads nothing, so the same policy costs it nothing."""
OPENAPI_PATH = "/schema"
VIEWERS_POLICY = "frame-ancestors 'none'"
"""The OpenAPI viewers are Litestar's own pages, which load their scripts; they may not be framed."""
EVERY_ANSWER = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),  # no page is shown inside another site's frame (clickjacking)
    (b"content-security-policy", POLICY.encode()),
]
"""Headers on every answer, in place of any the handler set, with the request's id."""
VIEWERS_HEADERS = [*EVERY_ANSWER[:3], (b"content-security-policy", VIEWERS_POLICY.encode())]
STAMPED = frozenset({name for name, _ in EVERY_ANSWER} | {b"x-request-id"})


Answered: TypeAlias = Callable[[Scope, int, float], None]
"""Told of each answer once it is sent: the request's scope, the status and the seconds it took."""


def front_door(app: ASGIApp, answered: Answered) -> ASGIApp:
    """Round the whole app, routed or not (a 404 included): give every request an id (the
    caller's `X-Request-ID` if sane), on its log records too; put the headers every answer carries
    on it; and tell `answered` (the metrics) its status and time. One layer for the three: it is
    on every request's path."""
    # Ours: this app's random prefix and 64 bits from a generator it seeds, unique across
    # processes, telling nothing of how many requests came before, and cheaper than reading the
    # system's randomness for each (an id is for following a request, not a secret).
    prefix, ids = secrets.token_hex(4), random.Random(secrets.randbits(128))  # noqa: S311

    async def door(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else f"{prefix}-{ids.getrandbits(64):016x}"
        scope["state"]["request_id"] = request_id
        stamped = [
            *(VIEWERS_HEADERS if scope["path"].startswith(OPENAPI_PATH) else EVERY_ANSWER),
            (b"x-request-id", request_id.encode("latin-1")),
        ]
        status = 500  # unless an answer starts

        async def send_stamped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = [h for h in message.get("headers", ()) if h[0].lower() not in STAMPED]
                message["headers"] = [*kept, *stamped]
            await send(message)

        logged_as = REQUEST_ID.set(request_id)
        try:
            await app(scope, receive, send_stamped)
        finally:
            REQUEST_ID.reset(logged_as)
            answered(scope, status, time.perf_counter() - started)

    return door


async def screen_request(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """The app's `before_request` hook, on every route: the guard (deny by default), then the
    body's depth. (A hook rather than a Litestar guard, which gets a copy of the route handler on
    every call, a tenth of a short request's time.)"""
    await authorize(request, request.route_handler)
    return await refuse_deep_bodies(request)


def require_screening(app: Litestar) -> None:
    """Refuse to build an app with a route the guard would not see: a router or route with a
    `before_request` of its own (Litestar runs only the nearest one), a cached route (its cached
    answer goes out before the hook), or a route that is not HTTP (it has no hook)."""
    for path, handler in every_handler(app):
        if not (
            isinstance(handler, HTTPRouteHandler)
            and handler.resolve_before_request() is screen_request
            and not handler.cache
        ):
            raise ImproperlyConfiguredException(f"{path} ({handler.handler_name}) skips the guard")


def route_template(app: Litestar) -> Callable[[Scope], str | None]:
    """The template of the route a request asks for (None if none matches), for labelling an
    answer given before the request is routed."""

    def template(scope: Scope) -> str | None:
        path = scope["path"]
        if root_path := scope.get("root_path", ""):  # as Litestar's router takes it off
            path = path.split(root_path, maxsplit=1)[-1]
        try:
            routed = app.asgi_router.handle_routing(normalize_path(path), scope.get("method"))
        except HTTPException:  # no such route, or not with this method
            return None
        return routed[4]

    return template


def every_handler(app: Litestar) -> Iterator[tuple[str, BaseRouteHandler]]:
    """Every route's path with each of its handlers, whatever kind of route it is (an HTTP route
    has one handler per method, an ASGI or websocket route one)."""
    for route in app.routes:
        handlers = route.route_handlers if isinstance(route, HTTPRoute) else [route.route_handler]
        for handler in handlers:
            yield route.path, handler


def current_actor(request: Request[Any, Any, Any], resources: Resources) -> audit.Actor:
    """The signed-in actor the guard found. (It takes `resources`, which it does not use, so that
    Litestar resolves the kernel's dependencies one after another, resources, actor, session,
    rather than starting a task group for each request's two independent ones.)"""
    actor = request.scope.get("user")
    return actor if isinstance(actor, audit.Actor) else ANONYMOUS


def provide_resources(request: Request[Any, Any, Any]) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


async def provide_session(
    request: Request[Any, Any, Any], actor: audit.Actor, resources: Resources
) -> AsyncGenerator[AsyncSession, None]:
    """The request's one transaction: committed after the handler returns, rolled back on error."""
    async with unit_of_work(resources.sessionmaker, actor, request.state.get("request_id")) as session:
        yield session


def provide_reads(request: Request[Any, Any, Any], actor: audit.Actor, resources: Resources) -> audit.Reads:
    """For a route that is one audited read: no ORM session, and no connection held for the
    request; each read takes one from the same pool (its size, its wait, its 503) for its one
    statement, which reads, records and commits by itself."""
    connect = functools.partial(pooled_driver, resources.engine)
    return audit.Reads(connect, actor, request.state.get("request_id"), resources.sealer.nudge)


def provide_idempotent(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    actor: audit.Actor,
    idempotency_key: Annotated[
        str | None,
        HeaderParameter(name="Idempotency-Key", description="Repeat a create safely: same key, same result"),
    ] = None,
) -> IdempotentCreate:
    if actor.user_id is None:
        raise Unauthorized("sign in first")
    return IdempotentCreate(session, actor.user_id, idempotency_key, request.url.path)


DEPENDENCIES = {
    "idempotent": Provide(provide_idempotent, sync_to_thread=False),
    "session": Provide(provide_session),
    "reads": Provide(provide_reads, sync_to_thread=False),
    "actor": Provide(current_actor, sync_to_thread=False),
    "resources": Provide(provide_resources, sync_to_thread=False),
}
