"""Load shedding: a bounded number of requests inside the service, a bounded queue before it.

A burst larger than the service can take turns into quick 503 answers with Retry-After rather than
into requests that wait half a minute for a database connection and then fail. Health probes (and
the metrics) are never queued, so they can say how busy the process is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
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


def unqueued(path: str) -> bool:
    """Health probes and the metrics: answered however busy the process is."""
    return path.startswith("/health/") or path == "/metrics"


class Overloaded(DomainError):
    """No turn within the wait, or the queue is full (503 with Retry-After)."""

    status = 503

    def __init__(self) -> None:
        super().__init__(OVERLOADED, retry_after=RETRY_AFTER_SECONDS)


class Admission:
    """At most `limit` requests in flight; up to `queue` more wait, each at most `wait` seconds.

    A place given back goes straight to the longest-waiting request, so one arriving just then
    never overtakes it. Each waiter is a future with a timer, not a task-level timeout: queueing
    is on the path of every request under load.
    """

    def __init__(self, limit: int, queue: int, wait: float) -> None:
        self.limit = limit
        self.queue = queue
        self.wait = wait
        self.in_flight = 0
        self._queued: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return len(self._queued)

    async def admit(self) -> Turn:
        """One of the `limit` places, until the turn is left. Raises Overloaded."""
        await self._take_turn()
        return Turn(self)

    async def _take_turn(self) -> None:
        if self.in_flight < self.limit and not self._queued:
            self.in_flight += 1
            return
        if len(self._queued) >= self.queue:
            raise Overloaded
        loop = asyncio.get_running_loop()
        place: asyncio.Future[None] = loop.create_future()
        self._queued.append(place)
        timer = loop.call_later(self.wait, self._give_up, place)
        try:
            await place  # handed a place: it is already counted in flight
        except asyncio.CancelledError:
            if place.cancelled():  # still queued, unless a place given back just skipped it
                with contextlib.suppress(ValueError):
                    self._queued.remove(place)
            elif place.exception() is None:  # handed a place as it was cancelled: pass it on
                self._give_turn()
            raise
        finally:
            timer.cancel()

    def _give_up(self, place: asyncio.Future[None]) -> None:
        """The wait is over: the queued request is turned away."""
        if not place.done():
            self._queued.remove(place)
            place.set_exception(Overloaded())

    def _give_turn(self) -> None:
        """Hand this place to the longest-waiting request still waiting, or free it. (A waiter
        cancelled a moment ago may still be queued: its task has not run to leave the queue.)"""
        while self._queued:
            place = self._queued.popleft()
            if not place.done():
                place.set_result(None)
                return
        self.in_flight -= 1


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


def admission_middleware(admission: Admission) -> Callable[[ASGIApp], ASGIApp]:
    """ASGI middleware (for Litestar's `middleware=`) that admits requests through `admission`."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def admit(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or unqueued(scope["path"]):
                await app(scope, receive, send)
                return
            try:  # no context manager: this is on every request's path
                turn = await admission.admit()
            except Overloaded:
                await send_overloaded(scope, send)
                return
            scope.setdefault("state", {})["turn"] = turn
            try:
                await app(scope, receive, send)
            finally:
                turn.leave()

        return admit

    return middleware


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
