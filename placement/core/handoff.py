"""A fair queue: what is given back goes to whoever has waited longest, each waiting at most so long.

`asyncio.Queue` wakes a waiter when an item is put, but a task that asks before the woken one
runs takes the item first, and the woken waiter goes back to the end of the line: under load, one
can wait past its deadline while later arrivals are served. Here an item given back is handed
straight to the longest waiter still waiting, and a new arrival waits its turn whenever anyone is
waiting. Both the service's admission (places to serve a request) and its database pool
(connections) queue this way. Waiters are futures beside their deadlines, with one timer for the
oldest: queueing is on the path of every request under load, and a timer each would be set and
cancelled every time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")
TIMER_SLACK_S = 0.001
"""A loop may run a timer a little early: a waiter due within this is turned away with the rest."""


class WaitedTooLong(Exception):
    """No item was given back within the wait."""


class HandOff(Generic[T]):
    """Items on hand, and the waiters for them in the order they came, each for at most `wait`
    seconds (the same for all: deadlines fall in the order of arrival)."""

    def __init__(self, wait: float, items: list[T] | None = None) -> None:
        self.wait = wait
        self._free: deque[T] = deque(items or ())
        self._waiters: deque[tuple[float, asyncio.Future[T]]] = deque()  # (deadline, waiter), FIFO
        self._timer: asyncio.TimerHandle | None = None

    @property
    def free(self) -> int:
        return len(self._free)

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def take_now(self) -> T | None:
        """An item on hand, if nobody is waiting for one (they come first); None otherwise."""
        if self._free and not self._waiters:
            return self._free.popleft()
        return None

    async def take(self) -> T:
        """An item: one on hand if nobody waits before us, else the next given back within the
        wait. Raises WaitedTooLong."""
        item = self.take_now()
        if item is not None:
            return item
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()
        deadline = loop.time() + self.wait
        if not self._waiters:  # the first waiter: later ones are due after it
            self._set_timer(loop, deadline)
        self._waiters.append((deadline, waiter))
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.cancelled():  # still queued, unless an item given back just skipped it
                self._leave_line(waiter)
            elif waiter.exception() is None:  # handed an item as it was cancelled: pass it on
                self.give(waiter.result())
            raise

    def give(self, item: T) -> None:
        """Hand `item` to the longest waiter still waiting, or keep it. (A waiter cancelled a
        moment ago may still be in line: its task has not yet run to leave it.)"""
        while self._waiters:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        self._free.append(item)

    def _leave_line(self, waiter: asyncio.Future[T]) -> None:
        for index, (_, queued) in enumerate(self._waiters):
            if queued is waiter:
                del self._waiters[index]
                return

    def _turn_away_late(self) -> None:
        """The oldest waiters' wait is over: turn them away, and set the timer for the next one."""
        loop = asyncio.get_running_loop()
        due = loop.time() + TIMER_SLACK_S
        while self._waiters and self._waiters[0][0] <= due:
            _, waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(WaitedTooLong())
        self._timer = None
        if self._waiters:
            self._set_timer(loop, self._waiters[0][0])

    def _set_timer(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        """One timer, for the oldest waiter (one left from a line since emptied is replaced)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(deadline, self._turn_away_late)
