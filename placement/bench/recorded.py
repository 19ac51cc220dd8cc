"""The SQL statements a served app sends, recorded in its own process for a bench to read.

`recording_app` is the service as `placement serve` runs it in one process (the arq worker inline),
which, once its lifespan has opened the database engine, appends every statement sent on that
engine (requests' and jobs' connections; not the audit sealer's, which has its own) to the file
named by `PLACEMENT_BENCH_STATEMENTS`: where it was sent from, its SQL and its parameters. Each
record is written whole before the statement runs, so a response's statements are all in the file
when the response arrives. The bench reads them back with a `Recording`, counts them, and replays
them on bare asyncpg.

Pool processes (the matcher's) open connections of their own: nothing here sees those.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from litestar import Litestar
from sqlalchemy import event

STATEMENTS_ENV = "PLACEMENT_BENCH_STATEMENTS"
REQUEST = "request"
"""The origin of a statement sent while serving an HTTP request (uvicorn's `run_asgi` task)."""
_LENGTH = struct.Struct("!I")


@dataclass(frozen=True, slots=True)
class Statement:
    origin: str
    """`request`, or the name of the job (or other task) that sent it."""
    sql: str
    parameters: tuple[Any, ...]


def recording_app() -> Litestar:
    """The service with its worker inline, recording its statements to `$PLACEMENT_BENCH_STATEMENTS`."""
    from placement.bench.service import service_app

    app = service_app()
    app.on_startup.append(_start_recording)
    return app


def _start_recording(app: Litestar) -> None:
    """Runs after the app's lifespan opened its resources (Litestar enters lifespans first)."""
    out = Path(os.environ[STATEMENTS_ENV]).open("ab", buffering=0)  # noqa: SIM115 - the process's lifetime

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        payload = pickle.dumps(Statement(_origin(), statement, tuple(parameters or ())))
        out.write(_LENGTH.pack(len(payload)) + payload)  # one write: a reader never sees half of it

    event.listen(app.state.resources.engine.sync_engine, "before_cursor_execute", record)


def _origin() -> str:
    """Which task sent the statement: a request (uvicorn's `run_asgi`), or a job by its name."""
    try:
        task = asyncio.current_task()
    except RuntimeError:
        return "no task"
    name = str(getattr(task.get_coro(), "__qualname__", "")) if task is not None else "no task"
    return REQUEST if name.endswith("run_asgi") else name


class Recording:
    """Reads the statements a `recording_app` appended since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO | None = None

    @classmethod
    @contextmanager
    def of(cls, path: Path) -> Iterator[Recording]:
        path.touch()
        recording = cls(path)
        try:
            yield recording
        finally:
            if recording._file is not None:
                recording._file.close()

    @property
    def env(self) -> dict[str, str]:
        """What the server's environment needs to record here."""
        return {STATEMENTS_ENV: str(self.path)}

    def new(self) -> list[Statement]:
        """Every statement recorded since the last call (or since the server started)."""
        if self._file is None:
            self._file = self.path.open("rb")
        found: list[Statement] = []
        while True:
            start = self._file.tell()
            head = self._file.read(_LENGTH.size)
            size = _LENGTH.unpack(head)[0] if len(head) == _LENGTH.size else None
            payload = self._file.read(size) if size is not None else b""
            if size is None or len(payload) < size:  # nothing more yet, or a record still being written
                self._file.seek(start)
                return found
            found.append(pickle.loads(payload))  # noqa: S301 - written by our own server, just now

    def skip(self) -> None:
        """Forget what was recorded so far."""
        self.new()
