"""`placement serve --workers N`: N API processes under uvicorn, one arq worker, nothing left behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from placement.core.settings import Settings
from tests.test_run_modes import alive, embedded_servers, free_port

API = "/api/v1"
STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 60.0


def serve(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`placement serve ARGS` in a session of its own, so a test can Ctrl-C it as a terminal would."""
    with log.open("w") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "placement.cli", "serve", *args],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def servers_env(settings: Settings) -> dict[str, str]:
    assert settings.database_url and settings.redis_url
    return {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}


def wait_until_ready(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Ready on the port, and both API processes started (not just the first to answer)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline and server.poll() is None:
        try:
            ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)
        except httpx.TransportError:
            time.sleep(0.2)
            continue
        assert ready.status_code == 200, ready.text
        assert ready.json()["database"] == ready.json()["redis"] == "ok"
        wait_for_line(server, log, "Application startup complete.", times=2)
        return
    pytest.fail(f"serve did not get ready:\n{log.read_text()[-3000:]}")


def wait_for_line(server: subprocess.Popen[bytes], log: Path, text: str, times: int = 1) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while log.read_text().count(text) < times:
        assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.1)


def processes_under(server: subprocess.Popen[bytes]) -> list[psutil.Process]:
    children: list[psutil.Process] = psutil.Process(server.pid).children(recursive=True)
    return children


def api_processes(children: list[psutil.Process], server: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """Uvicorn's API processes: the server's own children spawned by multiprocessing (not the
    solver pools a worker spawns beneath itself)."""
    return [
        p for p in children if p.ppid() == server.pid and "multiprocessing.spawn" in " ".join(p.cmdline())
    ]


def arq_workers(children: list[psutil.Process]) -> list[psutil.Process]:
    return [p for p in children if p.cmdline()[-2:] == ["placement.cli", "worker"]]


def stopped_cleanly(server: subprocess.Popen[bytes], children: list[psutil.Process], log: Path) -> None:
    server.wait(timeout=SHUTDOWN_TIMEOUT_S)
    output = log.read_text()
    assert server.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    psutil.wait_procs(children, timeout=10)
    assert alive(children) == []


@pytest.fixture
def stop_at_the_end() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Servers a test started, killed (with their session) if the test left them running."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for server in started:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


async def test_two_api_processes_serve_and_stop_on_sigterm_leaving_no_process(
    settings: Settings, sign_in: Any, tmp_path: Path, stop_at_the_end: list[subprocess.Popen[bytes]]
) -> None:
    """SIGTERM (what a process manager sends) to the parent alone stops its children too."""
    user = await sign_in("placement_staff")
    port, log = free_port(), tmp_path / "serve.log"
    args = ["--workers", "2", "--no-worker", "--no-migrate", "--port", str(port)]
    server = serve(args, servers_env(settings), log)
    stop_at_the_end.append(server)
    await asyncio.to_thread(wait_until_ready, server, port, log)
    children = processes_under(server)
    assert len(api_processes(children, server)) == 2 and arq_workers(children) == [], children
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(6):  # fresh connections: spread over both processes
            me = await client.get(f"{API}/me", headers={**user.headers, "Connection": "close"})
            assert me.status_code == 200 and me.json()["username"] == user.username
    server.send_signal(signal.SIGTERM)
    await asyncio.to_thread(stopped_cleanly, server, children, log)


def test_ctrl_c_stops_two_api_processes_and_their_one_arq_worker(
    settings: Settings, tmp_path: Path, stop_at_the_end: list[subprocess.Popen[bytes]]
) -> None:
    """Ctrl-C reaches the whole process group; the parent still stops the worker and waits for it."""
    port, log = free_port(), tmp_path / "serve.log"
    server = serve(["--workers", "2", "--no-migrate", "--port", str(port)], servers_env(settings), log)
    stop_at_the_end.append(server)
    wait_until_ready(server, port, log)
    wait_for_line(server, log, "Starting worker for")
    children = processes_under(server)
    assert len(api_processes(children, server)) == 2 and len(arq_workers(children)) == 1, children
    os.killpg(server.pid, signal.SIGINT)
    stopped_cleanly(server, children, log)


@pytest.mark.slow
def test_two_api_processes_share_the_embedded_servers_and_ctrl_c_stops_everything(
    tmp_path: Path, stop_at_the_end: list[subprocess.Popen[bytes]]
) -> None:
    """With no URLs the parent starts one PostgreSQL and one Redis; its children only connect.

    SIGINT goes to the parent alone here: it must stop the API processes and the worker itself."""
    port, log = free_port(), tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PLACEMENT_DATA_DIR"] = str(tmp_path / "data")
    server = serve(["--workers", "2", "--port", str(port)], env, log)
    stop_at_the_end.append(server)
    wait_until_ready(server, port, log)
    wait_for_line(server, log, "Starting worker for")
    servers = embedded_servers(log.read_text())  # exactly one of each, or this fails
    children = processes_under(server)
    assert len(api_processes(children, server)) == 2 and len(arq_workers(children)) == 1, children
    server.send_signal(signal.SIGINT)
    stopped_cleanly(server, children, log)
    assert alive(servers) == []
