"""Load shedding: a bounded number of requests inside the service, a bounded queue before it.

A burst larger than the service can take turns into quick 503 answers with Retry-After rather than
into requests that wait half a minute for a database connection and then fail. Health probes (and
the metrics) are never queued, so they can say how busy the process is.
"""

from __future__ import annotations

import asyncio
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


def unqueued(path: str) -> bool:
    """Health probes and the metrics: answered however busy the process is."""
    return path.startswith("/health/") or path == "/metrics"


class Overloaded(DomainError):
    """No turn within the wait, or the queue is full (503 with Retry-After)."""

    status = 503

    def __init__(self) -> None:
        super().__init__(OVERLOADED, retry_after=RETRY_AFTER_SECONDS)


class Admission:
    """At most `limit` requests in flight; up to `queue` more wait, each at most `wait` seconds."""

    def __init__(self, limit: int, queue: int, wait: float) -> None:
        self.limit = limit
        self.queue = queue
        self.wait = wait
        self.in_flight = 0
        self.waiting = 0
        self._turns = asyncio.Semaphore(limit)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[Turn]:
        """Hold one of the `limit` places for the block. Raises Overloaded."""
        if self._turns.locked() and self.waiting >= self.queue:
            raise Overloaded
        await self._take_turn()
        turn = Turn(self)
        try:
            yield turn
        finally:
            if turn.held:
                self._give_turn()

    async def _take_turn(self) -> None:
        if not self._turns.locked():  # a place is free and nobody waits for one: no wait to bound
            await self._turns.acquire()
            self.in_flight += 1
            return
        self.waiting += 1
        try:
            async with asyncio.timeout(self.wait):
                await self._turns.acquire()
        except TimeoutError:
            raise Overloaded from None
        finally:
            self.waiting -= 1
        self.in_flight += 1

    def _give_turn(self) -> None:
        self.in_flight -= 1
        self._turns.release()


class Turn:
    """One admitted request's place (in its scope's state as `turn`)."""

    def __init__(self, admission: Admission) -> None:
        self._admission = admission
        self.held = True

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
            try:
                async with admission.turn() as turn:
                    scope.setdefault("state", {})["turn"] = turn
                    await app(scope, receive, send)
            except Overloaded:
                await send_overloaded(scope, send)

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
