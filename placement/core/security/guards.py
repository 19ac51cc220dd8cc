"""Deny by default: every route names the roles it admits, or is explicitly public.

One guard runs on every route, from the app's `before_request` hook (`http.screen_request`; the
app refuses to be built with a route that would skip it). It resolves the bearer token, then admits
the request only if the route's `opt` lists the actor's role. A route that lists no roles admits
nobody. Every refusal of access, the guard's or a route's, is audited by a single autocommitted
insert (`audit_refusal`, the app's `after_exception` hook; requests without a live token only up
to a rate per address).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Scope
from redis.exceptions import RedisError

from placement.core import audit
from placement.core.errors import DomainError, Forbidden, Unauthorized
from placement.core.resources import Resources
from placement.core.security.tokens import TokenRefused, resolve_token

ANONYMOUS = audit.Actor(user_id=None, name="anonymous", role=None)
PUBLIC: dict[str, Any] = {"public": True}
SESSION_COOKIE = "placement_session"
"""Pages carry the sign-in token in this cookie; the API takes it only as a bearer header."""


# Unauthenticated refusals from one address are all audited up to this many a minute; past it,
# only the 100th, 1,000th, ... so a flood cannot fill the append-only log.
ANONYMOUS_AUDIT_PER_MINUTE = 20


def is_power_of_ten(n: int) -> bool:
    return n >= 10 and str(n).rstrip("0") == "1"


async def anonymous_attempt(resources: Resources, address: str) -> int | None:
    """This address's unauthenticated requests in the current minute (None if Redis is down)."""
    key = f"anonymous-refusals:{address}:{int(resources.clock().timestamp()) // 60}"
    try:
        async with resources.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, 120)
            count, _ = await pipe.execute()
    except RedisError:
        return None
    return int(count)


class SignInRefused(Unauthorized):
    """The guard's refusal of a request with no live token: one anyone can send, so its audit is
    throttled per address (a route's 401, a wrong password say, is always recorded)."""


def allow(*roles: str, entity: str) -> dict[str, Any]:
    """Route options: the roles admitted and the kind of record the route serves (for audit)."""
    return {"roles": frozenset(roles), "entity": entity}


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The token of the `Authorization: Bearer` header, read from the raw headers (on every request)."""
    sent = next((value for name, value in connection.scope["headers"] if name == b"authorization"), b"")
    scheme, _, token = sent.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def credential(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> str | None:
    """The bearer token; on a page (a route whose `opt` says `pages`), else the session cookie."""
    token = bearer_token(connection)
    if token is None and handler.opt.get("pages"):
        token = connection.cookies.get(SESSION_COOKIE) or None
    return token


async def record_refusal(
    connection: ASGIConnection[Any, Any, Any, Any], actor: audit.Actor, status: int, reason: str
) -> None:
    """Audit a refusal of this request, in one autocommitted statement on the audit's own
    connections (the refused request's transaction rolls back, and a refusal never waits behind
    requests for the pool): the route's action and entity, and the record its path names."""
    resources: Resources = connection.app.state.resources
    handler = connection.scope["route_handler"]
    await audit.record_at_once(
        resources.sealer.engine,
        actor,
        connection.scope.get("state", {}).get("request_id"),
        handler.handler_name,
        handler.opt.get("entity", "api"),
        connection.path_params.get("id"),
        outcome="denied",
        status=status,
        reason=reason,
    )
    resources.sealer.nudge()


async def authorize(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The guard on every route: authenticate, then check the route admits the actor's role."""
    if handler.opt.get("public"):
        return
    resources: Resources = connection.app.state.resources
    token = credential(connection, handler)
    try:
        if token is None:
            raise TokenRefused("sign in first: send 'Authorization: Bearer <token>'")
        actor = await resolve_token(resources, token, resources.clock())
    except TokenRefused as refused:
        raise SignInRefused(str(refused)) from None
    connection.scope["user"] = actor
    if actor.role not in handler.opt.get("roles", ()):
        raise Forbidden(f"the role {actor.role} may not use {handler.handler_name} ({connection.url.path})")


async def audit_refusal(refusal: Exception, scope: Scope) -> None:
    """The app's `after_exception` hook: audit a refusal of access (401, 403, 404, or a probe like
    them) from the guard or any route, on its own, since the refused request's work is not kept.
    The guard's refusals of requests without a live token are recorded up to
    ANONYMOUS_AUDIT_PER_MINUTE a minute from one address, then only the 100th, 1,000th, ..."""
    if not (isinstance(refusal, DomainError) and refusal.audited):
        return
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    reason = refusal.detail
    if isinstance(refusal, SignInRefused):
        address = connection.client.host if connection.client else "unknown"
        attempt = await anonymous_attempt(connection.app.state.resources, address)
        if attempt is not None and attempt > ANONYMOUS_AUDIT_PER_MINUTE and not is_power_of_ten(attempt):
            return
        reason = reason if attempt is None else f"{reason} (attempt {attempt} this minute)"
    actor = scope.get("user")
    await record_refusal(
        connection, actor if isinstance(actor, audit.Actor) else ANONYMOUS, refusal.status, reason
    )
