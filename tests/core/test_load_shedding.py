"""Load shedding: more requests than the service can take are answered 503 at once, never 500."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from litestar import Litestar
from sqlalchemy import func, select, text

from placement.app import create_app
from placement.bench.api import api_bench
from placement.core.admission import Admission, Overloaded
from placement.core.audit import AuditEntry
from placement.core.resources import Resources
from placement.core.settings import Settings
from placement.placements.models import Placement
from placement.youth.models import Youth
from tests.conftest import TEST_PASSWORD
from tests.core.turns import held
from tests.factories import API, make_safe_house, make_youth, youth_body


async def test_a_full_queue_turns_a_request_away_at_once() -> None:
    admission = Admission(limit=1, queue=1, wait=5)
    async with held(admission):
        queued = asyncio.create_task(_enter(admission))
        await asyncio.sleep(0.01)
        assert admission.waiting == 1
        started = asyncio.get_running_loop().time()
        with pytest.raises(Overloaded):
            await _enter(admission)
        assert asyncio.get_running_loop().time() - started < 0.05
    await queued
    assert (admission.in_flight, admission.waiting) == (0, 0)


async def test_a_queued_request_gives_up_after_the_wait() -> None:
    admission = Admission(limit=1, queue=10, wait=0.05)
    async with held(admission):
        with pytest.raises(Overloaded):
            await _enter(admission)
    assert admission.waiting == 0
    await _enter(admission)  # the turn it gave up is not lost


async def test_a_request_arriving_as_a_place_frees_does_not_overtake_the_one_queued_for_it() -> None:
    """A free place is taken without a wait only when nobody is queued: the woken request first."""
    admission = Admission(limit=1, queue=10, wait=5)
    order: list[str] = []

    async with held(admission):
        queued = asyncio.create_task(_enter(admission, order, "queued"))
        await asyncio.sleep(0.01)
    late = asyncio.create_task(
        _enter(admission, order, "late")
    )  # the place is free, but the queued request is woken
    await asyncio.gather(queued, late)
    assert order == ["queued", "late"]
    assert (admission.in_flight, admission.waiting) == (0, 0)


async def test_a_queued_request_that_is_cancelled_leaves_the_queue_and_takes_no_place() -> None:
    admission = Admission(limit=1, queue=10, wait=5)
    async with held(admission):
        queued = asyncio.create_task(_enter(admission))
        await asyncio.sleep(0.01)
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        assert (admission.in_flight, admission.waiting) == (1, 0)
    assert (admission.in_flight, admission.waiting) == (0, 0)


async def test_a_place_handed_to_a_request_as_it_is_cancelled_goes_to_the_next_one() -> None:
    admission = Admission(limit=1, queue=10, wait=5)
    entered: list[str] = []

    async with held(admission):
        first = asyncio.create_task(_enter(admission, entered, "first"))
        second = asyncio.create_task(_enter(admission, entered, "second"))
        await asyncio.sleep(0.01)
    first.cancel()  # handed the place on the way out of the block above, before it could run
    await asyncio.gather(first, second, return_exceptions=True)
    assert first.cancelled() and entered == ["second"]
    assert (admission.in_flight, admission.waiting) == (0, 0)


async def test_a_place_given_back_just_after_a_waiter_is_cancelled_goes_to_the_next_one() -> None:
    """The cancelled waiter's task has not yet run to leave the queue when the place comes back."""
    admission = Admission(limit=1, queue=10, wait=5)
    entered: list[str] = []

    turn = await admission.admit()
    first = asyncio.create_task(_enter(admission, entered, "first"))
    second = asyncio.create_task(_enter(admission, entered, "second"))
    await asyncio.sleep(0.01)
    first.cancel()
    turn.leave()  # in the same step: the first waiter is cancelled but still queued
    await asyncio.gather(first, second, return_exceptions=True)
    assert first.cancelled() and entered == ["second"]
    assert (admission.in_flight, admission.waiting) == (0, 0)


async def _enter(admission: Admission, entered: list[str] | None = None, name: str = "") -> None:
    """Hold a place for a moment, noting `name` in `entered` once in."""
    async with held(admission):
        if entered is not None:
            entered.append(name)
        await asyncio.sleep(0)


@asynccontextmanager
async def tight_app(settings: Settings, **limits: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same database, with the given pool and admission limits."""
    app = create_app(replace(settings, **limits))
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://tight.local") as client:
            yield client


@asynccontextmanager
async def bed_locked(resources: Resources, bed_id: str) -> AsyncIterator[None]:
    """Another transaction holds the bed's row lock: a hold of that bed waits for it."""
    async with resources.engine.connect() as connection, connection.begin():
        await connection.execute(text("SELECT 1 FROM beds WHERE id = :id FOR UPDATE"), {"id": bed_id})
        yield


async def hold(client: httpx.AsyncClient, staff: Any, youth_id: str, bed: str) -> httpx.Response:
    return await client.post(
        f"{API}/placements", json={"youth_id": youth_id, "bed_id": bed}, headers=staff.headers
    )


@dataclass
class OneBed:
    """Placement staff, a caseworker, one free bed and youth awaiting it."""

    staff: Any
    caseworker: Any
    bed: str
    youth: list[str]


@pytest.fixture
async def one_bed(client: httpx.AsyncClient, sign_in: Any) -> OneBed:
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    house = await make_safe_house(client, staff, beds=1)
    youth = [(await make_youth(client, staff, caseworker))["id"] for _ in range(3)]
    return OneBed(staff, caseworker, house["bed_list"][0]["id"], youth)


def assert_shed(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert response.json()["detail"].startswith("The service is busy; nothing was changed.")
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_past_the_queue_requests_get_503_and_health_says_the_pool_is_saturated(
    one_bed: OneBed, settings: Settings, resources: Resources
) -> None:
    staff, bed = one_bed.staff, one_bed.bed
    async with tight_app(settings, db_pool_size=1, max_in_flight=1, max_queued=1) as tight:
        holds = [hold(tight, staff, youth, bed) for youth in one_bed.youth]
        async with bed_locked(resources, bed):
            first = asyncio.create_task(holds[0])  # holds the only turn, waiting on the bed
            await asyncio.sleep(0.2)
            second = asyncio.create_task(holds[1])  # queued
            await asyncio.sleep(0.05)
            assert_shed(await holds[2])
            ready = await tight.get("/health/ready")
            assert ready.status_code == 503
            assert ready.json()["database"] == "saturated"
            assert ready.json()["load"] == {
                "pool_size": 1,
                "connections_in_use": 1,
                "requests_in_flight": 1,
                "requests_queued": 1,
            }
        assert (await first).status_code == 201
        assert (await second).status_code == 409
        assert (await tight.get("/health/ready")).status_code == 200

    async with resources.sessionmaker() as session:
        on_bed = await session.scalar(select(func.count()).where(Placement.bed_id == bed))
        assert on_bed == 1


async def test_no_connection_within_the_wait_is_a_503_with_nothing_written(
    one_bed: OneBed, settings: Settings, resources: Resources
) -> None:
    staff, bed, person = one_bed.staff, one_bed.bed, one_bed.youth[0]
    referral = youth_body(one_bed.caseworker.id)

    async with tight_app(settings, db_pool_size=1, max_in_flight=5, queue_wait_seconds=0.3) as tight:
        assert (await tight.get(f"{API}/me", headers=staff.headers)).status_code == 200  # token cached
        async with bed_locked(resources, bed):
            waiting = asyncio.create_task(hold(tight, staff, person, bed))
            await asyncio.sleep(0.2)
            refused = await tight.post(f"{API}/youth", json=referral, headers=staff.headers)
            assert_shed(refused)
        assert (await waiting).status_code == 201

    async with resources.sessionmaker() as session:
        created = await session.scalar(
            select(func.count()).where(Youth.case_reference == referral["case_reference"])
        )
        assert created == 0


async def test_sign_ins_turned_away_with_503_do_not_count_towards_the_throttle(
    one_bed: OneBed, settings: Settings, resources: Resources
) -> None:
    staff, bed, person = one_bed.staff, one_bed.bed, one_bed.youth[0]
    login = {"username": one_bed.caseworker.username, "password": TEST_PASSWORD}

    async with tight_app(settings, db_pool_size=1, max_in_flight=10, queue_wait_seconds=0.2) as tight:
        assert (await tight.get(f"{API}/me", headers=staff.headers)).status_code == 200  # token cached
        async with bed_locked(resources, bed):
            holding = asyncio.create_task(  # takes the only connection, waiting on the bed
                hold(tight, staff, person, bed)
            )
            await asyncio.sleep(0.2)
            for _ in range(settings.login_max_failures + 1):
                assert_shed(await tight.post(f"{API}/auth/login", json=login))
        assert (await holding).status_code == 201
        assert (await tight.post(f"{API}/auth/login", json=login)).status_code == 200


async def test_a_refusal_is_answered_and_audited_while_requests_hold_every_connection(
    one_bed: OneBed, settings: Settings, resources: Resources
) -> None:
    staff, caseworker = one_bed.staff, one_bed.caseworker
    async with tight_app(settings, db_pool_size=1, max_in_flight=10, queue_wait_seconds=0.3) as tight:
        assert (await tight.get(f"{API}/me", headers=caseworker.headers)).status_code == 200  # token cached
        async with bed_locked(resources, one_bed.bed):
            holding = asyncio.create_task(hold(tight, staff, one_bed.youth[0], one_bed.bed))
            await asyncio.sleep(0.2)
            refused = await tight.get(f"{API}/users", headers=caseworker.headers)
            assert refused.status_code == 403, refused.text
        assert (await holding).status_code == 201
    async with resources.sessionmaker() as session:
        denied = await session.scalar(
            select(func.count()).where(
                AuditEntry.actor_id == caseworker.id,
                AuditEntry.request_id == refused.headers["x-request-id"],
                AuditEntry.status == 403,
            )
        )
        assert denied == 1


def test_a_burst_far_past_the_pool_gets_only_201_409_and_503_and_no_bed_twice(
    server_settings: Settings, tmp_path: Path
) -> None:
    """Real uvicorn, real sockets: 400 holds at once for 3 beds on a pool of 2 connections."""
    assert server_settings.database_url and server_settings.redis_url
    env = {
        "DATABASE_URL": server_settings.database_url,
        "REDIS_URL": server_settings.redis_url,
        "PLACEMENT_DB_POOL_SIZE": "2",
        "PLACEMENT_MAX_IN_FLIGHT": "4",
        "PLACEMENT_MAX_QUEUED": "16",
    }
    figures = tmp_path / "burst.json"
    args = [
        "--scenario",
        "burst",
        "--houses",
        "5",
        "--burst",
        "400",
        "--burst-beds",
        "3",
        "--json",
        str(figures),
    ]

    result = CliRunner().invoke(api_bench, args, env=env)

    assert result.exit_code == 0, result.output
    burst = json.loads(figures.read_text())["scenarios"]["burst"]
    assert burst["connection_errors"] == {}, burst
    assert burst["answered"] == 400
    assert set(burst["statuses"]) <= {"201", "409", "503"}, burst["statuses"]
    assert burst["statuses"]["201"] == 3 and burst["statuses"]["503"] > 0, burst["statuses"]
    assert burst["invariants"]["hold"], burst["invariants"]


async def test_an_audited_read_past_the_wait_for_a_connection_is_a_503_with_nothing_recorded(
    one_bed: OneBed, settings: Settings, resources: Resources
) -> None:
    """The read runs on a connection taken straight from the pool, without a session: the same
    wait, the same 503, and no entry claiming the record was read."""
    staff, bed = one_bed.staff, one_bed.bed
    async with tight_app(settings, db_pool_size=1, max_in_flight=5, queue_wait_seconds=0.3) as tight:
        assert (await tight.get(f"{API}/me", headers=staff.headers)).status_code == 200  # token cached
        async with bed_locked(resources, bed):
            waiting = asyncio.create_task(hold(tight, staff, one_bed.youth[0], bed))
            await asyncio.sleep(0.2)
            refused = await tight.get(f"{API}/youth/{one_bed.youth[1]}", headers=staff.headers)
            assert_shed(refused)
        assert (await waiting).status_code == 201
        read = await tight.get(f"{API}/youth/{one_bed.youth[1]}", headers=staff.headers)
        assert read.status_code == 200, read.text

    async with resources.sessionmaker() as session:
        asked = [refused.headers["x-request-id"], read.headers["x-request-id"]]
        recorded = await session.scalars(
            select(AuditEntry.request_id).where(
                AuditEntry.entity_id == one_bed.youth[1], AuditEntry.request_id.in_(asked)
            )
        )
        assert list(recorded) == [read.headers["x-request-id"]]


@asynccontextmanager
async def one_connection_app(settings: Settings) -> AsyncIterator[tuple[Litestar, httpx.AsyncClient]]:
    """A second app on the same database whose pool holds a single connection."""
    app = create_app(replace(settings, db_pool_size=1))
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url="http://restarted.local",
        ) as client,
    ):
        yield app, client


async def end_its_connection(app: Litestar, resources: Resources) -> None:
    """What a database restart does to every session: the app's one pooled connection ends."""
    async with app.state.resources.engine.connect() as pooled:
        pid = await pooled.scalar(text("SELECT pg_backend_pid()"))
    async with resources.engine.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def youth_routes(client: httpx.AsyncClient, sign_in: Any) -> tuple[Any, list[str]]:
    """Placement staff, and a route on a session and one read on the driver."""
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    youth_id = (await make_youth(client, staff, caseworker))["id"]
    return staff, [f"{API}/youth", f"{API}/youth/{youth_id}"]


async def test_a_connection_lost_with_a_database_restart_is_never_a_500_and_service_resumes(
    client: httpx.AsyncClient, sign_in: Any, settings: Settings, resources: Resources
) -> None:
    """Through the engine or straight on the driver, the request right after the restart either
    finds the connection gone at checkout and takes a fresh one (200), or loses it under its
    statement: a 503 the client may retry, never a 500. Either way the dead connection is not
    handed to the next request."""
    staff, paths = await youth_routes(client, sign_in)
    async with one_connection_app(settings) as (app, restarted):
        for path in paths:
            assert (await restarted.get(path, headers=staff.headers)).status_code == 200
            await end_its_connection(app, resources)
            first = await restarted.get(path, headers=staff.headers)
            assert first.status_code in (200, 503), first.text
            if first.status_code == 503:
                assert first.headers["retry-after"] == "1"
            assert (await restarted.get(path, headers=staff.headers)).status_code == 200


async def test_a_connection_the_database_closed_while_pooled_is_replaced_before_anyone_uses_it(
    client: httpx.AsyncClient, sign_in: Any, settings: Settings, resources: Resources
) -> None:
    """Closed while idle (a restart between requests): the pool sees it at checkout, for a session
    and for a read on the driver alike, and takes a fresh connection: no answer fails."""
    staff, paths = await youth_routes(client, sign_in)
    async with one_connection_app(settings) as (app, restarted):
        for path in paths:
            assert (await restarted.get(path, headers=staff.headers)).status_code == 200
            await end_its_connection(app, resources)
            await asyncio.sleep(0.5)  # the driver notices the closed socket meanwhile
            answer = await restarted.get(path, headers=staff.headers)
            assert answer.status_code == 200, answer.text
