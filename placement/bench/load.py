"""A minimal HTTP/1.1 load generator and its figures: closed-loop clients, and a one-shot burst.

Cheap on purpose (raw asyncio streams, keep-alive, Content-Length framing) so that on a small
machine the client does not starve the server it measures. Each closed-loop client follows a
*conversation*: a generator that yields the next request and is sent the previous response, so a
scenario can act on what the server answered (cancel the hold it just placed).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import time
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import msgspec

from placement.bench.servers import HOST

ERROR_SAMPLES = 5
BURST_TIMEOUT_S = 90.0  # past the service's 30 s wait for a pooled connection, to see its own answer
NO_RESPONSE = 0  # the status a conversation is sent when the connection broke instead

Response = tuple[int, bytes]  # status and body
Conversation = Generator[bytes, Response, None]


@dataclass(frozen=True, slots=True)
class Target:
    """A server under test: where it listens, where its routes start, and who signs in (if anyone)."""

    name: str
    port: int
    prefix: str = ""
    token: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """One HTTP/1.1 request to `prefix + path`, with a JSON body if given."""
        head = f"{method} {self.prefix}{path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
        if self.token:
            head += f"Authorization: Bearer {self.token}\r\n"
        if body is None:
            return f"{head}\r\n".encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return f"{head}\r\n".encode() + body


def rotation(shared: Iterator[bytes]) -> Conversation:
    """A client that sends the next request of a shared rotation, whatever the last answer was."""
    while True:
        yield next(shared)


class ProtocolError(Exception):
    """A response this minimal client does not read (no Content-Length)."""


async def read_response(reader: asyncio.StreamReader) -> Response:
    """Status and body of one HTTP/1.1 response framed by Content-Length."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return status, await reader.readexactly(int(value))
    raise ProtocolError(f"HTTP {status} without Content-Length")


class Problem(msgspec.Struct):
    detail: str = ""


def describe(status: int, body: bytes) -> str:
    """A failed response in words that repeat across requests (a problem's detail, not its id)."""
    try:
        detail = msgspec.json.decode(body, type=Problem).detail
    except msgspec.DecodeError:
        detail = body[:200].decode(errors="replace")
    return f"HTTP {status}: {detail}"


def succeeded(status: int) -> bool:
    return 200 <= status < 300


BROKEN = (OSError, asyncio.IncompleteReadError, ProtocolError)


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

    @property
    def elapsed(self) -> float:
        return self.last_done - self.measure_from


@dataclass
class Client:
    """A conversation and the request it will send next, so it can go on in a later round."""

    conversation: Conversation
    pending: bytes | None = None

    def next_request(self) -> bytes:
        if self.pending is None:
            self.pending = next(self.conversation)
        return self.pending

    def answered(self, response: Response) -> None:
        self.pending = self.conversation.send(response)


async def converse(port: int, talker: Client, until: float, run: Run) -> None:
    """One keep-alive connection following the client's conversation back to back until `until`."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while (started := time.perf_counter()) < until:
            failure: str | None = None
            response: Response = (NO_RESPONSE, b"")
            try:
                writer.write(talker.next_request())
                response = await read_response(reader)
                if not succeeded(response[0]):
                    failure = describe(*response)
            except BROKEN as broken:
                failure = f"{type(broken).__name__}: {broken}"
                writer.close()
                reader, writer = await asyncio.open_connection(HOST, port)
            if started >= run.measure_from:
                run.record(started, time.perf_counter(), failure)
            talker.answered(response)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def drive(port: int, clients: list[Client], warmup: float, seconds: float) -> Run:
    """Every client on a connection of its own: warm up, then measure for `seconds`."""
    measure_from = time.perf_counter() + warmup
    run = Run(measure_from=measure_from, last_done=measure_from)
    async with asyncio.TaskGroup() as talking:  # one failing client cancels the others
        for talker in clients:
            talking.create_task(converse(port, talker, measure_from + seconds, run))
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


def figures(name: str, runs: list[Run]) -> Figures:
    """Over all the runs: throughput counts 2xx answers only; latencies cover every response."""
    ordered = sorted(latency for run in runs for latency in run.latencies)
    failures = sum((run.errors for run in runs), Counter[str]())
    errors = sum(failures.values())
    elapsed = sum(run.elapsed for run in runs)
    return Figures(
        name=name,
        requests=len(ordered),
        errors=errors,
        throughput=(len(ordered) - errors) / elapsed if elapsed > 0 else 0.0,
        p50_ms=percentile_ms(ordered, 50),
        p90_ms=percentile_ms(ordered, 90),
        p99_ms=percentile_ms(ordered, 99),
        max_ms=percentile_ms(ordered, 100),
        error_samples=[f"{count} x {text}" for text, count in failures.most_common(ERROR_SAMPLES)],
    )


# --- The burst: every request on a connection of its own, all sent at once --------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """One burst request: its status and latency, or how its connection failed."""

    status: int = NO_RESPONSE
    seconds: float = 0.0
    broken: str | None = None
    detail: str = ""


def connection_error(error: BaseException) -> str:
    """The kind of connection failure, named the way an operator would."""
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, ConnectionResetError | BrokenPipeError):
        return "reset"
    if isinstance(error, asyncio.IncompleteReadError):
        return "dropped"  # closed before a whole response
    if isinstance(error, ProtocolError):
        return "unreadable response"
    return type(error).__name__


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def connect(port: int, deadline: float) -> Connection | str:
    """A fresh connection, or the name of why there is none."""
    try:
        async with asyncio.timeout_at(deadline):
            return await asyncio.open_connection(HOST, port)
    except (OSError, TimeoutError) as failed:
        return f"connect {connection_error(failed)}"


async def one_shot(connection: Connection | str, request: bytes, deadline: float) -> Outcome:
    """Send `request` on its own connection and wait (until `deadline`, loop time) for the answer."""
    if isinstance(connection, str):
        return Outcome(broken=connection)
    reader, writer = connection
    started = time.perf_counter()
    try:
        async with asyncio.timeout_at(deadline):
            writer.write(request)
            status, body = await read_response(reader)
        return Outcome(status, time.perf_counter() - started, detail=describe(status, body))
    except (*BROKEN, TimeoutError) as broken:
        return Outcome(seconds=time.perf_counter() - started, broken=connection_error(broken))
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def burst(port: int, requests: list[bytes]) -> list[Outcome]:
    """Open a connection per request, then send them all at once; give up after `BURST_TIMEOUT_S`.

    Latency counts from the moment the requests are sent, not from the connecting before.
    """
    loop = asyncio.get_running_loop()
    connected_by = loop.time() + BURST_TIMEOUT_S
    connections = await asyncio.gather(*(connect(port, connected_by) for _ in requests))
    answered_by = loop.time() + BURST_TIMEOUT_S
    shots = (one_shot(c, r, answered_by) for c, r in zip(connections, requests, strict=True))
    return await asyncio.gather(*shots)
