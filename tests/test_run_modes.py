"""`placement serve` on a machine with only Python: embedded servers up, then all gone on Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def embedded_servers(log: str) -> list[psutil.Process]:
    """The embedded servers' processes (they detach from `serve`): found by the data folder and
    the Redis socket that `serve` logged."""
    places = re.findall(r"embedded (?:PostgreSQL in|Redis at) (\S+)", log)
    assert len(places) == 2, log[-3000:]
    found = []
    for process in psutil.process_iter(["cmdline"]):
        command = " ".join(process.info["cmdline"] or ())
        if any(place in command for place in places):
            found.append(process)
    return found


def alive(processes: list[psutil.Process]) -> list[str]:
    """Command lines of those processes still running."""
    running = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(" ".join(process.cmdline()))
    return running


@pytest.mark.slow
def test_serve_with_no_urls_runs_embedded_servers_and_leaves_nothing_behind_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["PLACEMENT_DATA_DIR"] = str(tmp_path / "data")
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "placement.cli", "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline, ready = time.monotonic() + 90, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert ready is not None and ready.status_code == 200, ready
        health = ready.json()
        assert (health["status"], health["database"], health["redis"]) == ("ok", "ok", "ok")
        assert health["load"]["pool_size"] == 10
        servers = embedded_servers(log.read_text())
        commands = " ".join(" ".join(p.cmdline()) for p in servers)
        assert "postgres" in commands and "redis-server" in commands, commands
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
    output = log.read_text()
    assert server.returncode == 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert alive(servers) == []
