"""A stored answer is reproduced offline from its exported instance, and a solve lost with its
worker is done again by the sweep."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import msgspec
from arq.worker import Worker
from sqlalchemy import select

from placement.core.audit import AuditEntry
from placement.core.resources import Resources
from placement.core.settings import Settings
from placement.matches.models import MatchRequest
from tests.caregivers.factories import make_household
from tests.factories import API, make_safe_house, make_youth
from tests.matches.asking import answer_of, ask


def command_env(settings: Settings, **extra: str) -> dict[str, str]:
    assert settings.database_url and settings.redis_url
    return {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url, **extra}


async def placement(env: dict[str, str], *args: str) -> None:
    """Run a `placement` command to its end."""
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "placement.cli", *args],
        env=env,
        check=True,
        capture_output=True,
    )


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`placement worker` in a process group of its own (its solver process in it too)."""
    with log.open("a") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "placement.cli", "worker"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def test_the_stored_answer_equals_placement_match_solve_on_the_exported_instance(
    client: httpx.AsyncClient,
    sign_in: Any,
    resources: Resources,
    settings: Settings,
    tmp_path: Path,
    worker: Worker,
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    for _ in range(3):
        await make_safe_house(client, staff, beds=2)
    await make_household(resources.sessionmaker, capacity=2)
    answer = await ask(client, caseworker, [await make_youth(client, caseworker)], proposals=4)
    exported, solved = tmp_path / "instance.json", tmp_path / "answer.json"
    env = command_env(settings)
    await placement(env, "match", "export", answer["id"], "--out", str(exported))
    await placement(env, "match", "solve", str(exported), "--limit", "4", "--out", str(solved))
    async with resources.sessionmaker() as session:
        request = await session.get(MatchRequest, uuid.UUID(answer["id"]))
        assert request is not None and request.engine == {"mode": "rank", "limit": 4}
        exports = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "export_match_instance")
        )
        assert [e.entity_id for e in exports] == [answer["id"]]
    assert msgspec.json.decode(solved.read_bytes()) == request.result


async def test_a_worker_killed_mid_solve_leaves_the_request_to_the_sweep_which_completes_it(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, settings: Settings, tmp_path: Path
) -> None:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    await make_safe_house(client, staff, beds=1)
    env = command_env(settings, PLACEMENT_MATCH_SWEEP_AFTER_SECONDS="1")
    log = tmp_path / "worker.log"
    first = await asyncio.to_thread(start_worker, env, log)
    try:
        youth = await make_youth(client, caseworker)
        created = await client.post(
            f"{API}/match-requests", json={"youth_ids": [youth["id"]]}, headers=caseworker.headers
        )
        request_id = uuid.UUID(created.json()["id"])
        # The first solve starts the worker's solver process: long enough to be caught in the act.
        assert await _status_becomes(resources, request_id, "solving", seconds=30)
        os.killpg(first.pid, signal.SIGKILL)
        await asyncio.to_thread(first.wait, 10)
        await asyncio.sleep(1.2)  # the solve's lease runs out
        assert await _status_of(resources, request_id) == "solving"
        second = await asyncio.to_thread(start_worker, env, log)
        try:
            answer = await answer_of(client, caseworker, str(request_id))
            if answer["status"] in ("queued", "solving"):
                answer = await answer_of(client, caseworker, str(request_id))
            assert answer["status"] == "proposed", (answer, log.read_text()[-2000:])
        finally:
            os.killpg(second.pid, signal.SIGTERM)
            await asyncio.to_thread(second.wait, 30)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    async with resources.sessionmaker() as session:
        request = await session.get(MatchRequest, request_id)
        assert request is not None and request.attempt == 2


async def _status_of(resources: Resources, request_id: uuid.UUID) -> str | None:
    async with resources.sessionmaker() as session:
        return await session.scalar(select(MatchRequest.status).where(MatchRequest.id == request_id))


async def _status_becomes(resources: Resources, request_id: uuid.UUID, status: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await _status_of(resources, request_id) == status:
            return True
        await asyncio.sleep(0.005)
    return False
