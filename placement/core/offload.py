"""Work that would stall the event loop, run in a pool of processes beside it.

The matcher's solves are CPU-bound Python and NumPy: in a thread they would hold the GIL for long
stretches and slow every request the same process serves (in `placement serve` the API and the
worker share one). In another process they cannot. The pool starts its processes on first use
("spawn": no copy of this process's sockets, event loop or connections), keeps them for the next
call, and starts anew should one die.

The service keeps three pools (`Resources`), each started on first use: one for what someone waits
on now (a match request's ranking, an explanation, an accept's check), one for batches, and one for
program leads' analyses (what-ifs, the unmet-need count), so that no long solve queues a
caseworker's request or a batch behind it. The last two run at a lower CPU priority (`niceness`):
on a busy machine the API's answers come first.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


BACKGROUND_NICENESS = 5


class ProcessPool:
    def __init__(self, processes: int, niceness: int = 0) -> None:
        self.processes = max(1, processes)
        self.niceness = niceness
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                self.processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=functools.partial(os.nice, self.niceness),
            )
        return self._executor

    async def run(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`function(*args)` in a pool process (it and its arguments must pickle)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool(), _call, function, args, kwargs)
        except BrokenProcessPool:
            self.close()  # a process died (killed, out of memory): the next call starts a new pool
            raise

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _call(function: Callable[..., R], args: tuple[object, ...], kwargs: dict[str, object]) -> R:
    return function(*args, **kwargs)
