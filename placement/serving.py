"""Serving the API: one process with the app built in it, or several under uvicorn beside one worker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import uvicorn

from placement.core.settings import Settings

APP_FACTORY = "placement.app:app_from_env"
WORKER_COMMAND = (sys.executable, "-m", "placement.cli", "worker")
WORKER_STOP_TIMEOUT_S = 30.0


def uvicorn_options(host: str, port: int) -> dict[str, Any]:
    """What every API process is served with, however many there are."""
    # No access log: query strings can carry a youth's origin (near=LAT,LON). Requests are
    # traced by their X-Request-ID in the audit trail instead.
    # No log_config of uvicorn's own: its lines go through the process's handler (JSON if asked).
    return {
        "host": host,
        "port": port,
        "log_level": "info",
        "log_config": None,
        "proxy_headers": False,
        "access_log": False,
    }


def serve_in_process(settings: Settings, host: str, port: int) -> None:
    """One API process running the app built here (with the arq worker inline if the settings say)."""
    from placement.app import create_app

    uvicorn.run(create_app(settings), **uvicorn_options(host, port))


def serve_processes(settings: Settings, host: str, port: int, *, workers: int, worker: bool) -> None:
    """`workers` API processes under uvicorn's supervisor, and with `worker` one arq worker process.

    The children reach this process's servers (embedded ones included) through DATABASE_URL and
    REDIS_URL; the worker is stopped once uvicorn returns, whether it stopped or failed.
    """
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # until uvicorn takes over: unwind
    with servers_in_environment(settings), worker_process() if worker else contextlib.nullcontext():
        uvicorn.run(APP_FACTORY, factory=True, workers=workers, **uvicorn_options(host, port))


@contextlib.contextmanager
def servers_in_environment(settings: Settings) -> Iterator[None]:
    """Set DATABASE_URL and REDIS_URL to the servers in `settings` for child processes; restore after."""
    urls = {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}
    before = {name: os.environ.get(name) for name in urls}
    os.environ.update({name: url for name, url in urls.items() if url})
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def worker_process(output: int | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """`placement worker` as a child process, stopped with SIGTERM (then waited for) on the way out;
    its log goes where this process's does, or to `output` (e.g. `subprocess.DEVNULL`)."""
    process = subprocess.Popen(WORKER_COMMAND, stdout=output, stderr=output)  # noqa: S603 - our own command
    try:
        yield process
    finally:
        stop_process(process)


def stop_process(process: subprocess.Popen[bytes], timeout: float = WORKER_STOP_TIMEOUT_S) -> None:
    """SIGTERM, then wait for it to finish its shutdown; kill it if it will not."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
