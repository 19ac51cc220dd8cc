"""The solver pools: a pool process works at its niceness and dies with its owner, so an API or
worker killed outright leaves no solver process running on its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from placement.core.offload import BACKGROUND_NICENESS, ProcessPool

OWNER = """
import asyncio, os
from placement.core.offload import ProcessPool

async def main():
    pool = ProcessPool(1)
    print(await pool.run(os.getpid), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"  # a zombie has died
    except FileNotFoundError:
        return False


async def test_a_pool_process_runs_at_the_pools_niceness() -> None:
    pool = ProcessPool(1, niceness=BACKGROUND_NICENESS)
    try:
        assert await pool.run(os.nice, 0) == os.nice(0) + BACKGROUND_NICENESS
    finally:
        pool.close()


def test_a_pool_process_dies_when_its_owner_is_killed_outright() -> None:
    owner = subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        child = int(owner.stdout.readline())
        assert alive(child)
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        deadline = time.monotonic() + 10
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(child)
    finally:
        owner.kill()
