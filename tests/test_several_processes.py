"""Two API processes side by side (real uvicorn subprocesses, one database, one Redis) keep the
guarantees one process gives: throttling, sign-out, idempotency and one intact audit chain."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from placement.bench.servers import HOST, serving
from placement.core.audit import AuditEntry, verify_chain
from placement.core.resources import Resources
from placement.core.security.models import AccessToken
from placement.core.security.token_cache import CACHE_SECONDS
from placement.core.security.tokens import digest
from placement.core.settings import Settings
from placement.serving import APP_FACTORY
from placement.youth.models import Youth
from tests.conftest import TEST_PASSWORD, SignedIn
from tests.factories import API, youth_body

Pair = tuple[httpx.AsyncClient, httpx.AsyncClient]


@contextlib.contextmanager
def two_api_processes(settings: Settings) -> Iterator[tuple[str, str]]:
    """Base URLs of two API processes serving the real app on the test database and Redis."""
    with serving(APP_FACTORY, settings) as a, serving(APP_FACTORY, settings) as b:
        yield f"http://{HOST}:{a}", f"http://{HOST}:{b}"


@contextlib.asynccontextmanager
async def clients(urls: tuple[str, str]) -> AsyncIterator[Pair]:
    async with httpx.AsyncClient(base_url=urls[0]) as a, httpx.AsyncClient(base_url=urls[1]) as b:
        yield a, b


@pytest.fixture(scope="module")
def shared_processes(settings: Settings) -> Iterator[tuple[str, str]]:
    with two_api_processes(settings) as urls:
        yield urls


@pytest.fixture
async def pair(shared_processes: tuple[str, str]) -> AsyncIterator[Pair]:
    async with clients(shared_processes) as both:
        yield both


async def login(client: httpx.AsyncClient, username: str, password: str = TEST_PASSWORD) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"username": username, "password": password})


async def test_failed_sign_ins_on_both_processes_add_up_to_one_throttle(
    pair: Pair, sign_in: Any, settings: Settings
) -> None:
    a, b = pair
    user: SignedIn = await sign_in("caseworker")
    for attempt in range(settings.login_max_failures):
        failed = await login(pair[attempt % 2], user.username, "wrong password!")
        assert failed.status_code == 401, failed.text
    for client in (a, b):
        refused = await login(client, user.username)  # the right password, too late
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) > 0


async def test_a_sign_out_on_one_process_is_refused_at_once_on_the_other_that_cached_it(
    pair: Pair, sign_in: Any, resources: Resources
) -> None:
    """At once: within the moment the revocation message takes, not the cache's 10 s lapse."""
    a, b = pair
    user: SignedIn = await sign_in("placement_staff")
    assert (await b.get(f"{API}/me", headers=user.headers)).status_code == 200  # cached on B
    await prove_b_caches_tokens(b, sign_in, resources)
    assert (await a.post(f"{API}/auth/logout", headers=user.headers)).status_code == 204
    started = time.monotonic()
    while (after := await b.get(f"{API}/me", headers=user.headers)).status_code == 200:
        assert time.monotonic() - started < CACHE_SECONDS / 10, "B kept serving a signed-out token"
        await asyncio.sleep(0.01)
    assert after.status_code == 401 and "revoked" in after.json()["detail"]


async def prove_b_caches_tokens(b: httpx.AsyncClient, sign_in: Any, resources: Resources) -> None:
    """A token revoked behind B's back (in the database, no message) still works on B: its cache
    answers, so the sign-out above is refused by the revocation message, not by the database."""
    other: SignedIn = await sign_in("placement_staff")
    assert (await b.get(f"{API}/me", headers=other.headers)).status_code == 200
    async with resources.sessionmaker() as session, session.begin():
        await session.execute(
            update(AccessToken)
            .where(AccessToken.token_hash == digest(other.token))
            .values(revoked_at=func.now())
        )
    assert (await b.get(f"{API}/me", headers=other.headers)).status_code == 200


async def test_one_idempotency_key_creates_one_youth_across_both_processes(
    pair: Pair, sign_in: Any, db: AsyncSession
) -> None:
    a, b = pair
    caseworker: SignedIn = await sign_in("caseworker")
    body = youth_body()
    headers = {**caseworker.headers, "Idempotency-Key": "referral-across-processes"}
    first = await a.post(f"{API}/youth", json=body, headers=headers)
    repeat = await b.post(f"{API}/youth", json=body, headers=headers)
    assert first.status_code == repeat.status_code == 201, (first.text, repeat.text)
    assert repeat.json()["id"] == first.json()["id"]
    raced_body, raced = youth_body(), {**caseworker.headers, "Idempotency-Key": "raced-referral"}
    both = await asyncio.gather(*(c.post(f"{API}/youth", json=raced_body, headers=raced) for c in pair))
    assert [r.status_code for r in both] == [201, 201] and both[0].json() == both[1].json()
    references = [body["case_reference"], raced_body["case_reference"]]
    count = await db.scalar(select(func.count()).where(Youth.case_reference.in_(references)))
    assert count == 2
    reused = await b.post(f"{API}/youth", json=youth_body(), headers=headers)
    assert reused.status_code == 422 and "Idempotency-Key" in reused.json()["detail"]


async def audited_traffic(client: httpx.AsyncClient, caseworker: SignedIn) -> dict[str, str]:
    """A referral, reads of it, and refusals (401, 403); returns each response's request id and
    what it was."""
    created = await client.post(f"{API}/youth", json=youth_body(), headers=caseworker.headers)
    assert created.status_code == 201, created.text
    responses = [
        created,
        await client.get(f"{API}/youth/{created.json()['id']}", headers=caseworker.headers),
        await client.get(f"{API}/youth", headers=caseworker.headers),
        await client.get(f"{API}/youth", headers={"Authorization": "Bearer not-a-token"}),
        await client.get(f"{API}/audit", headers=caseworker.headers),
    ]
    assert [r.status_code for r in responses] == [201, 200, 200, 401, 403]
    return {r.headers["x-request-id"]: f"{r.request.method} {r.url.path} {r.status_code}" for r in responses}


async def test_both_processes_entries_are_in_one_intact_chain_once_they_stop(
    settings: Settings, sign_in: Any, db: AsyncSession
) -> None:
    caseworker: SignedIn = await sign_in("caseworker")
    with two_api_processes(settings) as urls:
        async with clients(urls) as (a, b):
            rounds = await asyncio.gather(*(audited_traffic(c, caseworker) for c in (a, b, a, b)))
    on_a, on_b = {**rounds[0], **rounds[2]}, {**rounds[1], **rounds[3]}
    report = await verify_chain(db)
    assert report.intact and report.unsealed == 0, report
    sealed = await db.execute(
        select(AuditEntry.request_id, AuditEntry.seq).where(AuditEntry.request_id.in_([*on_a, *on_b]))
    )
    chained = {request_id for request_id, seq in sealed if seq is not None}
    missing = {request_id: what for request_id, what in {**on_a, **on_b}.items() if request_id not in chained}
    assert missing == {}, "requests of A or B with no sealed audit entry"
