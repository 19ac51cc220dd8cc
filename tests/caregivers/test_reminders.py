"""Reminders: the daily job writes what is due to the notifications outbox, once; caregivers read
theirs."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from arq.worker import Worker
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caregivers.reminders.models import Notification
from caregivers.reminders.outbox import write_reminders
from caregivers.training.models import Completion, TrainingModule, TrainingSeries
from placement.core.audit import AuditEntry
from placement.core.resources import Resources
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from placement.worker import worker_settings, write_daily_reminders
from tests.caregivers.factories import make_caregiver, make_household
from tests.conftest import FakeClock, SignedIn
from tests.factories import API

LOCK_WAIT_TIMEOUT_S = 10.0


async def make_module(sessionmaker: async_sessionmaker[AsyncSession], title: str | None = None) -> uuid.UUID:
    """A module of a series of its own, with codes no start-up catalog uses."""
    code = f"test-{uuid.uuid4().hex[:10]}"
    async with unit_of_work(sessionmaker) as session:
        series = TrainingSeries(code=code, title=f"Series {code}", audience="caregiver")
        session.add(series)
        await session.flush()
        module = TrainingModule(
            series_id=series.id,
            code=code,
            title=title or f"Module {code}",
            position=1,
            duration_minutes=45,
            validity_months=24,
            available_from=date(2000, 1, 1),
        )
        session.add(module)
        await session.flush()
        return module.id


async def make_completion(
    sessionmaker: async_sessionmaker[AsyncSession],
    caregiver_id: uuid.UUID,
    module_id: uuid.UUID,
    expires_on: date | None,
    completed_on: date | None = None,
) -> uuid.UUID:
    """A completion of the module, written straight to the database."""
    done = completed_on or (expires_on - timedelta(days=730) if expires_on else date(2024, 1, 1))
    async with unit_of_work(sessionmaker) as session:
        completion = Completion(
            caregiver_id=caregiver_id,
            module_id=module_id,
            completed_on=done,
            expires_on=expires_on,
            source="self_reported",
        )
        session.add(completion)
        await session.flush()
        return completion.id


def today(clock: FakeClock) -> date:
    return clock.now.date()


def days_ago(clock: FakeClock, days: int) -> datetime:
    return clock.now - timedelta(days=days)


async def run_job(resources: Resources) -> int:
    return await write_daily_reminders({"resources": resources})


async def reminders(resources: Resources, reason: str | None = None) -> list[Notification]:
    async with resources.sessionmaker() as session:
        query = select(Notification).order_by(Notification.due_on, Notification.caregiver_id)
        if reason:
            query = query.where(Notification.reason == reason)
        return list((await session.scalars(query)).all())


async def household_with_primary(resources: Resources, **overrides: Any) -> tuple[uuid.UUID, uuid.UUID]:
    household = await make_household(resources.sessionmaker, **overrides)
    return household, await make_caregiver(resources.sessionmaker, household)


async def one_of_each(resources: Resources, clock: FakeClock) -> None:
    """A household with its licence expiring, availability gone stale and a completion expiring."""
    _, person = await household_with_primary(
        resources,
        licence_expires_on=today(clock) + timedelta(days=20),
        availability_confirmed_at=days_ago(clock, 40),
    )
    module = await make_module(resources.sessionmaker)
    await make_completion(resources.sessionmaker, person, module, today(clock) + timedelta(days=5))


async def many_due(resources: Resources, clock: FakeClock, households: int) -> int:
    """Households of two primary caregivers each, every one with all three reminders due; returns
    how many reminders are due."""
    module = await make_module(resources.sessionmaker)
    for _ in range(households):
        household = await make_household(
            resources.sessionmaker,
            licence_expires_on=today(clock) + timedelta(days=30),
            availability_confirmed_at=days_ago(clock, 35),
        )
        for _ in range(2):
            person = await make_caregiver(resources.sessionmaker, household)
            await make_completion(resources.sessionmaker, person, module, today(clock) + timedelta(days=3))
    return households * 2 * 3


# --- the job writes each reminder once ---------------------------------------------------------


async def test_running_the_job_twice_writes_each_reminder_once(
    resources: Resources, clock: FakeClock
) -> None:
    await one_of_each(resources, clock)

    assert await run_job(resources) == 3
    assert await run_job(resources) == 0
    clock.advance(days=1)  # the next day's run finds the same things due
    assert await run_job(resources) == 0

    written = await reminders(resources)
    assert sorted(n.reason for n in written) == [
        "availability_stale",
        "completion_expiring",
        "licence_expiring",
    ]


async def test_two_workers_running_at_once_write_each_reminder_once(
    resources: Resources, clock: FakeClock
) -> None:
    due = await many_due(resources, clock, households=6)

    async def run() -> int:
        async with unit_of_work(resources.sessionmaker) as session:
            return await write_reminders(session, today(clock), resources.settings.stale_after_days, "UTC")

    counts = await asyncio.gather(*(run() for _ in range(4)))

    assert sum(counts) == due
    assert len(await reminders(resources)) == due


async def test_a_run_racing_an_uncommitted_run_waits_and_then_writes_nothing_new(
    resources: Resources, clock: FakeClock
) -> None:
    """The unique key, not a read before the write, keeps the second run from writing twice: it
    waits on the first run's rows and drops its own once the first commits."""
    due = await many_due(resources, clock, households=3)
    first_written = asyncio.Event()
    release = asyncio.Event()

    async def first() -> int:
        async with unit_of_work(resources.sessionmaker) as session:
            count = await write_reminders(session, today(clock), resources.settings.stale_after_days, "UTC")
            first_written.set()
            await release.wait()  # hold the transaction open
        return count

    async def second() -> int:
        await first_written.wait()
        async with unit_of_work(resources.sessionmaker) as session:
            return await write_reminders(session, today(clock), resources.settings.stale_after_days, "UTC")

    running = asyncio.gather(first(), second())
    await waiting_on_a_lock(resources)  # the second run is inside its insert, blocked by the first
    release.set()
    first_count, second_count = await running

    assert (first_count, second_count) == (due, 0)
    assert len(await reminders(resources)) == due


async def waiting_on_a_lock(resources: Resources) -> None:
    deadline = time.monotonic() + LOCK_WAIT_TIMEOUT_S
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        async with resources.engine.connect() as connection:
            if await connection.scalar(query):
                return
        await asyncio.sleep(0.02)
    raise AssertionError("the second run never waited on the first")


async def test_the_job_is_a_daily_cron_job_of_the_worker(settings: Settings) -> None:
    run = worker_settings(settings)
    assert "write_daily_reminders" in [f.__qualname__ for f in run["functions"]]
    (job,) = [c for c in run["cron_jobs"] if c.name == "cron:write_daily_reminders"]
    assert (job.hour, job.minute, job.unique) == (6, 5, True)


async def test_two_arq_workers_running_the_job_at_once_write_each_reminder_once(
    settings: Settings, resources: Resources, clock: FakeClock
) -> None:
    due = await many_due(resources, clock, households=3)
    jobs = [await resources.redis.enqueue_job("write_daily_reminders") for _ in range(2)]
    workers = [
        Worker(**{**worker_settings(settings, resources), "burst": True, "poll_delay": 0.05})
        for _ in range(2)
    ]
    try:
        await asyncio.gather(*(w.async_run() for w in workers))
    finally:
        for worker in workers:
            await worker.close()

    assert sum([await job.result(timeout=10) for job in jobs if job is not None]) == due
    assert len(await reminders(resources)) == due


# --- which completions are reminded ------------------------------------------------------------


async def test_a_completion_expiring_within_30_days_is_reminded_to_its_person_on_its_expiry(
    resources: Resources, clock: FakeClock
) -> None:
    household = await make_household(resources.sessionmaker)
    secondary = await make_caregiver(resources.sessionmaker, household, role="secondary")
    module = await make_module(resources.sessionmaker, title="Understanding trauma bonds")
    expires = today(clock) + timedelta(days=30)
    completion = await make_completion(resources.sessionmaker, secondary, module, expires)

    await run_job(resources)

    (reminder,) = await reminders(resources)
    assert (reminder.caregiver_id, reminder.household_id) == (secondary, household)
    assert (reminder.reason, reminder.subject_id, reminder.due_on) == (
        "completion_expiring",
        completion,
        expires,
    )
    assert "Understanding trauma bonds" in reminder.message and expires.isoformat() in reminder.message


async def test_a_completion_expiring_in_31_days_is_not_yet_reminded(
    resources: Resources, clock: FakeClock
) -> None:
    _, person = await household_with_primary(resources)
    module, expired = await make_module(resources.sessionmaker), await make_module(resources.sessionmaker)
    await make_completion(resources.sessionmaker, person, module, today(clock) + timedelta(days=31))
    await make_completion(resources.sessionmaker, person, expired, today(clock) - timedelta(days=1))

    assert await run_job(resources) == 0
    clock.advance(days=1)
    assert await run_job(resources) == 1  # now 30 days out


async def test_a_renewed_completion_is_not_reminded(resources: Resources, clock: FakeClock) -> None:
    _, person = await household_with_primary(resources)
    renewed, for_good = await make_module(resources.sessionmaker), await make_module(resources.sessionmaker)
    soon = today(clock) + timedelta(days=10)
    for module in (renewed, for_good):
        await make_completion(resources.sessionmaker, person, module, soon)
    await make_completion(
        resources.sessionmaker, person, renewed, today(clock) + timedelta(days=730), completed_on=today(clock)
    )
    await make_completion(resources.sessionmaker, person, for_good, None, completed_on=today(clock))

    assert await run_job(resources) == 0


async def test_another_persons_renewal_does_not_cancel_a_reminder(
    resources: Resources, clock: FakeClock
) -> None:
    household, person = await household_with_primary(resources)
    partner = await make_caregiver(resources.sessionmaker, household)
    module = await make_module(resources.sessionmaker)
    await make_completion(resources.sessionmaker, person, module, today(clock) + timedelta(days=10))
    await make_completion(resources.sessionmaker, partner, module, today(clock) + timedelta(days=700))

    await run_job(resources)

    assert [(n.reason, n.caregiver_id) for n in await reminders(resources)] == [
        ("completion_expiring", person)
    ]


async def test_two_completions_of_a_module_expiring_the_same_day_are_reminded_once(
    resources: Resources, clock: FakeClock
) -> None:
    _, person = await household_with_primary(resources)
    module = await make_module(resources.sessionmaker)
    expires = today(clock) + timedelta(days=10)
    await make_completion(
        resources.sessionmaker, person, module, expires, completed_on=expires - timedelta(days=700)
    )
    later = await make_completion(
        resources.sessionmaker, person, module, expires, completed_on=expires - timedelta(days=600)
    )

    await run_job(resources)

    assert [n.subject_id for n in await reminders(resources)] == [later]


# --- licences ----------------------------------------------------------------------------------


async def test_a_licence_expiring_within_60_days_is_reminded_to_each_primary_caregiver(
    resources: Resources, clock: FakeClock
) -> None:
    expires = today(clock) + timedelta(days=60)
    household = await make_household(
        resources.sessionmaker, name="The Okafor home", licence_expires_on=expires
    )
    primaries = {await make_caregiver(resources.sessionmaker, household) for _ in range(2)}
    await make_caregiver(resources.sessionmaker, household, role="secondary")

    await run_job(resources)

    written = await reminders(resources)
    assert {n.caregiver_id for n in written} == primaries
    assert {(n.reason, n.subject_id, n.due_on) for n in written} == {("licence_expiring", household, expires)}
    assert all("The Okafor home" in n.message and expires.isoformat() in n.message for n in written)
    assert not any("Confidential" in n.message for n in written)  # never the street address


async def test_a_licence_expiring_in_61_days_is_not_yet_reminded(
    resources: Resources, clock: FakeClock
) -> None:
    await household_with_primary(resources, licence_expires_on=today(clock) + timedelta(days=61))
    assert await run_job(resources) == 0


async def test_a_licence_that_is_not_placeable_is_not_reminded(
    resources: Resources, clock: FakeClock
) -> None:
    for status in ("suspended", "revoked", "pending"):
        await household_with_primary(
            resources, licence_status=status, licence_expires_on=today(clock) + timedelta(days=10)
        )
    assert await run_job(resources) == 0


# --- availability ------------------------------------------------------------------------------


async def test_availability_going_stale_within_a_week_is_reminded_with_the_last_day_it_counts(
    resources: Resources, clock: FakeClock
) -> None:
    stale_after = resources.settings.stale_after_days
    confirmed = days_ago(clock, stale_after - 7)
    household, person = await household_with_primary(
        resources, name="The Silva home", availability_confirmed_at=confirmed
    )
    await household_with_primary(resources, availability_confirmed_at=days_ago(clock, stale_after - 8))

    await run_job(resources)

    (reminder,) = await reminders(resources)
    due = confirmed.date() + timedelta(days=stale_after)
    assert (reminder.caregiver_id, reminder.subject_id, reminder.due_on) == (person, household, due)
    assert reminder.reason == "availability_stale" and "The Silva home" in reminder.message


async def test_stale_availability_is_reminded_once_however_many_days_it_stays_stale(
    resources: Resources, clock: FakeClock
) -> None:
    stale_after = resources.settings.stale_after_days
    confirmed = days_ago(clock, stale_after + 40)
    await household_with_primary(resources, availability_confirmed_at=confirmed)
    await household_with_primary(resources, availability_confirmed_at=None)

    for _ in range(3):
        await run_job(resources)
        clock.advance(days=1)

    written = await reminders(resources, "availability_stale")
    created_on = datetime.now(UTC).date()  # the never-confirmed household's creation day
    assert sorted(n.due_on for n in written) == [confirmed.date() + timedelta(days=stale_after), created_on]


async def test_availability_of_a_closed_household_is_not_reminded(
    resources: Resources, clock: FakeClock
) -> None:
    await household_with_primary(resources, availability="closed", availability_confirmed_at=None)
    await household_with_primary(
        resources,
        availability="paused",
        paused_until=today(clock) + timedelta(days=14),
        availability_confirmed_at=days_ago(clock, 90),
    )
    await run_job(resources)
    assert [n.reason for n in await reminders(resources)] == ["availability_stale"]  # the paused one


async def test_confirming_availability_again_brings_a_new_reminder_when_that_goes_stale(
    resources: Resources, clock: FakeClock
) -> None:
    household, _ = await household_with_primary(resources, availability_confirmed_at=days_ago(clock, 30))
    await run_job(resources)
    confirmed_again = clock.now
    async with unit_of_work(resources.sessionmaker) as session:
        await session.execute(
            text("UPDATE households SET availability_confirmed_at = :at WHERE id = :id"),
            {"at": confirmed_again, "id": household},
        )
    clock.advance(days=resources.settings.stale_after_days - 7)

    assert await run_job(resources) == 1
    assert [n.due_on for n in await reminders(resources)][-1] == confirmed_again.date() + timedelta(
        days=resources.settings.stale_after_days
    )


# --- the caregiver's notifications -------------------------------------------------------------


async def caregiver_with_reminders(
    resources: Resources, clock: FakeClock, sign_in: Any
) -> tuple[SignedIn, uuid.UUID]:
    """A caregiver login whose person has a completion and a licence reminder."""
    login = await sign_in("caregiver")
    household = await make_household(
        resources.sessionmaker, licence_expires_on=today(clock) + timedelta(days=40)
    )
    person = await make_caregiver(resources.sessionmaker, household, login=login)
    module = await make_module(resources.sessionmaker)
    await make_completion(resources.sessionmaker, person, module, today(clock) + timedelta(days=10))
    return login, person


async def test_a_caregiver_sees_only_their_own_notifications(
    client: httpx.AsyncClient, resources: Resources, clock: FakeClock, sign_in: Any
) -> None:
    mine, _ = await caregiver_with_reminders(resources, clock, sign_in)
    theirs, _ = await caregiver_with_reminders(resources, clock, sign_in)
    await run_job(resources)

    response = await client.get(f"{API}/me/notifications", headers=mine.headers)

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 2
    assert [n["reason"] for n in page["items"]] == [
        "licence_expiring",
        "completion_expiring",
    ]  # latest due first
    other = (await client.get(f"{API}/me/notifications", headers=theirs.headers)).json()
    assert {n["id"] for n in page["items"]}.isdisjoint({n["id"] for n in other["items"]})


async def test_a_caregiver_login_with_no_person_sees_an_empty_page(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    login = await sign_in("caregiver")
    response = await client.get(f"{API}/me/notifications", headers=login.headers)
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_marking_a_notification_read_twice_keeps_the_first_time_and_is_audited(
    client: httpx.AsyncClient, resources: Resources, clock: FakeClock, sign_in: Any
) -> None:
    login, _ = await caregiver_with_reminders(resources, clock, sign_in)
    await run_job(resources)
    page = (await client.get(f"{API}/me/notifications", headers=login.headers)).json()
    first_id = page["items"][0]["id"]

    read = await client.post(f"{API}/me/notifications/{first_id}/read", headers=login.headers)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    clock.advance(minutes=5)
    again = await client.post(f"{API}/me/notifications/{first_id}/read", headers=login.headers)
    assert again.status_code == 200 and again.json()["read_at"] == read.json()["read_at"]

    unread = (await client.get(f"{API}/me/notifications?unread_only=true", headers=login.headers)).json()
    assert unread["total"] == 1 and unread["items"][0]["id"] != first_id
    async with resources.sessionmaker() as session:
        audited = await session.scalar(
            select(func.count()).where(
                AuditEntry.action == "mark_notification_read",
                AuditEntry.entity_id == first_id,
                AuditEntry.actor_id == login.id,
                AuditEntry.outcome == "allowed",
            )
        )
    assert audited == 2


async def test_marking_another_caregivers_notification_read_is_a_404(
    client: httpx.AsyncClient, resources: Resources, clock: FakeClock, sign_in: Any
) -> None:
    mine, _ = await caregiver_with_reminders(resources, clock, sign_in)
    theirs, _ = await caregiver_with_reminders(resources, clock, sign_in)
    await run_job(resources)
    their_id = (await client.get(f"{API}/me/notifications", headers=theirs.headers)).json()["items"][0]["id"]

    response = await client.post(f"{API}/me/notifications/{their_id}/read", headers=mine.headers)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    still_unread = (
        await client.get(f"{API}/me/notifications?unread_only=true", headers=theirs.headers)
    ).json()
    assert their_id in [n["id"] for n in still_unread["items"]]
    async with resources.sessionmaker() as session:
        denied = await session.scalar(
            select(func.count()).where(
                AuditEntry.entity_id == their_id, AuditEntry.actor_id == mine.id, AuditEntry.status == 404
            )
        )
    assert denied == 1


async def test_other_roles_may_not_read_caregivers_notifications(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    for role in ("placement_staff", "caseworker", "program_lead", "admin"):
        user = await sign_in(role)
        response = await client.get(f"{API}/me/notifications", headers=user.headers)
        assert response.status_code == 403, role


def test_the_openapi_document_shows_the_notification_routes_and_their_problems(app: Any) -> None:
    paths = app.openapi_schema.to_schema()["paths"]
    listed = paths["/api/v1/me/notifications"]["get"]
    read = paths["/api/v1/me/notifications/{id}/read"]["post"]
    for operation in (listed, read):
        assert "application/problem+json" in operation["responses"]["404"]["content"]
    assert {p["name"] for p in listed["parameters"]} >= {"unread_only", "limit", "offset"}
