"""Serving an ASGI app factory under uvicorn in a subprocess of its own, for benchmarks."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping

import click

from placement.core.settings import Settings
from placement.serving import stop_process

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def uvicorn_command(factory: str, port: int, workers: int = 1) -> list[str]:
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return [
        sys.executable, "-m", "uvicorn", "--factory", factory,
        "--host", HOST, "--port", str(port), "--workers", str(workers), "--no-access-log",
        "--loop", loop, "--http", http, "--log-level", "warning",
    ]  # fmt: skip


def server_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    assert settings.database_url is not None
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis,
        "PLACEMENT_DB_POOL_SIZE": str(settings.db_pool_size),
        **(extra or {}),
    }


@contextlib.contextmanager
def serving(
    factory: str, settings: Settings, env: Mapping[str, str] | None = None, workers: int = 1
) -> Iterator[int]:
    """Run `factory` under uvicorn in a subprocess (with `env` added to its environment; `workers`
    processes under uvicorn's supervisor); yield its port once it accepts connections.

    The subprocess gets a session of its own, so a Ctrl-C reaches only this process, which then
    stops it here, whatever happened meanwhile.
    """
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running uvicorn
        uvicorn_command(factory, port, workers), env=server_env(settings, env), start_new_session=True
    )
    try:
        wait_until_listening(process, port, factory)
        yield port
    finally:
        stop_process(process, SHUTDOWN_TIMEOUT_S)


def wait_until_listening(process: subprocess.Popen[bytes], port: int, factory: str) -> None:
    """Uvicorn listens only once the app's startup hooks have run."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise click.ClickException(f"the {factory} server exited with status {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise click.ClickException(f"the {factory} server did not listen on port {port} in {STARTUP_TIMEOUT_S} s")
