"""A minimal closed-loop HTTP/1.1 load generator and its figures.

Cheap on purpose (raw asyncio streams, keep-alive, Content-Length framing) so that on a small
machine the client does not starve the server it measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import math
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from placement.bench.servers import HOST

ERROR_SAMPLES = 5


def request_bytes(port: int, path: str, query: str, token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path}?{query} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{auth}\r\n".encode()


class ProtocolError(Exception):
    """A response this minimal client does not read (no Content-Length)."""


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response framed by Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return status, await reader.readexactly(int(value))
    raise ProtocolError(f"HTTP {status} without Content-Length")


@dataclass
class Run:
    """What the clients saw during the measured window (requests started inside it)."""

    measure_from: float
    last_done: float
    latencies: list[float] = dataclasses.field(default_factory=list)
    errors: Counter[str] = dataclasses.field(default_factory=Counter)

    def record(self, started: float, done: float, failure: str | None) -> None:
        self.latencies.append(done - started)
        self.last_done = max(self.last_done, done)
        if failure is not None:
            self.errors[failure] += 1


async def client(port: int, requests: Iterator[bytes], until: float, run: Run) -> None:
    """One keep-alive connection sending requests back to back until `until`."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while (started := time.perf_counter()) < until:
            failure: str | None = None
            try:
                writer.write(next(requests))
                status, body = await read_response(reader)
                if status != 200:
                    failure = f"HTTP {status}: {body[:200].decode(errors='replace')}"
            except (OSError, asyncio.IncompleteReadError, ProtocolError) as broken:
                failure = f"{type(broken).__name__}: {broken}"
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
            if started >= run.measure_from:
                run.record(started, time.perf_counter(), failure)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def drive(port: int, requests: list[bytes], concurrency: int, warmup: float, seconds: float) -> Run:
    """`concurrency` clients cycle through `requests`: warm up, then measure for `seconds`."""
    measure_from = time.perf_counter() + warmup
    run = Run(measure_from=measure_from, last_done=measure_from)
    shared = itertools.cycle(requests)
    async with asyncio.TaskGroup() as clients:  # one failing client cancels the others
        for _ in range(concurrency):
            clients.create_task(client(port, shared, measure_from + seconds, run))
    return run


@dataclass(frozen=True, slots=True)
class Figures:
    name: str
    requests: int
    errors: int
    throughput: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    error_samples: list[str]


def percentile_ms(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile of sorted latencies in seconds, in milliseconds."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)] * 1000


def figures(name: str, run: Run) -> Figures:
    """Throughput counts 200s only; latencies cover every response."""
    ordered = sorted(run.latencies)
    errors = sum(run.errors.values())
    elapsed = run.last_done - run.measure_from
    return Figures(
        name=name,
        requests=len(ordered),
        errors=errors,
        throughput=(len(ordered) - errors) / elapsed if elapsed > 0 else 0.0,
        p50_ms=percentile_ms(ordered, 50),
        p90_ms=percentile_ms(ordered, 90),
        p99_ms=percentile_ms(ordered, 99),
        max_ms=percentile_ms(ordered, 100),
        error_samples=[f"{count} x {text}" for text, count in run.errors.most_common(ERROR_SAMPLES)],
    )
