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
import contextlib
import ctypes
import functools
import importlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


BACKGROUND_NICENESS = 3


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
                initializer=functools.partial(_prepare, self.niceness),
            )
        return self._executor

    async def run(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """`function(*args)` in a pool process (it and its arguments must pickle)."""
        loop = asyncio.get_running_loop()
        with _ctrl_c_held():  # a process the submit starts begins deaf to Ctrl-C (see _prepare)
            solved = loop.run_in_executor(self._pool(), _call, function, args, kwargs)
        try:
            return await solved
        except BrokenProcessPool:
            self.close()  # a process died (killed, out of memory): the next call starts a new pool
            raise

    async def warm(self, *modules: str) -> None:
        """Start the pool's processes now and have each import `modules`, so that the first solve
        does not pay for a process start and the engine's imports (a second or two)."""
        await asyncio.gather(*(self.run(_import, modules) for _ in range(self.processes)))

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """SIGINT held back from this thread while it starts pool processes: they inherit the mask, so
    a Ctrl-C during their start-up waits until `_prepare` has them ignore it (and reaches this
    process as soon as the mask is lifted)."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


PR_SET_PDEATHSIG = 1


def _prepare(niceness: int) -> None:
    """A pool process: at its priority, and deaf to Ctrl-C (which reaches the whole process group):
    the process that owns the pool stops it; and on Linux, killed should its owner die without
    stopping it (a `placement serve` killed outright leaves no solver process behind)."""
    os.nice(niceness)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _import(modules: tuple[str, ...]) -> None:
    for module in modules:
        importlib.import_module(module)


def _call(function: Callable[..., R], args: tuple[object, ...], kwargs: dict[str, object]) -> R:
    return function(*args, **kwargs)
