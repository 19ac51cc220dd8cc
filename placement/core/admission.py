"""Load shedding: a bounded number of requests inside the service, a bounded queue before it.

A burst larger than the service can take turns into quick 503 answers with Retry-After rather than
into requests that wait half a minute for a database connection and then fail. Health probes (and
the metrics) are never queued, so they can say how busy the process is.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from placement.core.errors import (
    OVERLOADED,
    PROBLEM_MEDIA_TYPE,
    RETRY_AFTER_SECONDS,
    DomainError,
    problem_document,
)
from placement.core.handoff import HandOff, WaitedTooLong


def unqueued(path: str) -> bool:
    """Health probes and the metrics: answered however busy the process is."""
    return path.startswith("/health/") or path == "/metrics"


PLACE = True
"""One of the places admission hands out (they are all alike)."""


class Overloaded(DomainError):
    """No turn within the wait, or the queue is full (503 with Retry-After)."""

    status = 503

    def __init__(self) -> None:
        super().__init__(OVERLOADED, retry_after=RETRY_AFTER_SECONDS)


class Admission:
    """At most `limit` requests in flight; up to `queue` more wait, each at most `wait` seconds.

    The places are handed on fairly (`placement.core.handoff`): one given back goes straight to
    the longest-waiting request, so one arriving just then never overtakes it.
    """

    def __init__(self, limit: int, queue: int, wait: float) -> None:
        self.limit = limit
        self.queue = queue
        self._places = HandOff(wait, [PLACE] * limit)

    @property
    def in_flight(self) -> int:
        return self.limit - self._places.free

    @property
    def waiting(self) -> int:
        return self._places.waiting

    async def admit(self) -> Turn:
        """One of the `limit` places, until the turn is left. Raises Overloaded."""
        await self._take_turn()
        return Turn(self)

    async def _take_turn(self) -> None:
        if self._places.take_now() is not None:
            return
        if self._places.waiting >= self.queue:
            raise Overloaded
        try:
            await self._places.take()
        except WaitedTooLong:
            raise Overloaded from None

    def _give_turn(self) -> None:
        self._places.give(PLACE)


class Turn:
    """One admitted request's place (in its scope's state as `turn`)."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self.held = True

    def leave(self) -> None:
        """Give the place back (unless it is set aside)."""
        if self.held:
            self.held = False
            self._admission._give_turn()

    @contextlib.asynccontextmanager
    async def aside(self) -> AsyncIterator[None]:
        """Give this place to another request while the block waits on something outside the
        service (a solve it asked for), and take one again after it. Raises Overloaded."""
        self._admission._give_turn()
        self.held = False
        try:
            yield
        finally:
            await self._admission._take_turn()
            self.held = True


def admitting(app: ASGIApp, admission: Admission, route_of: Callable[[Scope], str | None]) -> ASGIApp:
    """Admit each HTTP request through `admission` before it is routed (so that Litestar adds no
    layer of its own to every route for it); one turned away is answered 503 at once, under the
    template of the route it asked for (`route_of`), as the metrics label it."""

    async def admit(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or unqueued(scope["path"]):
            await app(scope, receive, send)
            return
        try:  # no context manager: this is on every request's path
            turn = await admission.admit()
        except Overloaded:
            if template := route_of(scope):
                scope["path_template"] = template
            await send_overloaded(scope, send)
            return
        scope.setdefault("state", {})["turn"] = turn
        try:
            await app(scope, receive, send)
        finally:
            turn.leave()

    return admit


async def send_overloaded(scope: Scope, send: Send) -> None:
    """503 problem+json with Retry-After, written straight to the connection."""
    body = msgspec.json.encode(problem_document(503, OVERLOADED, scope, retry_after=RETRY_AFTER_SECONDS))
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 503,
        "headers": [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
        ],
    }
    await send(start)
    done: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(done)
