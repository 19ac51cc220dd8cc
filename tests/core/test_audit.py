"""The audit trail: writes, confidential reads and refusals are recorded, and tampering shows."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from placement.core.audit import Actor, AuditEntry, ChainReport, verify_chain
from placement.core.resources import Resources
from placement.core.uow import unit_of_work
from placement.youth.service import get_youth
from tests.factories import API, make_safe_house, make_youth


async def entries_for(resources: Resources, **where: Any) -> list[AuditEntry]:
    async with resources.sessionmaker() as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        for column, value in where.items():
            query = query.where(getattr(AuditEntry, column) == value)
        return list((await session.scalars(query)).all())


async def test_writes_and_confidential_reads_are_recorded_with_actor_and_request(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff = await sign_in("placement_staff")
    house = await make_safe_house(client, staff, beds=0)
    read = await client.get(f"{API}/safe-houses/{house['id']}", headers=staff.headers)
    entries = await entries_for(resources, entity="safe_house", entity_id=house["id"])
    actions = [e.action for e in entries]
    assert actions[0] == "create_safe_house"
    assert "read_safe_house_location" in actions
    last = entries[-1]
    assert last.actor_id == staff.id and last.role == "placement_staff" and last.outcome == "allowed"
    assert last.request_id == read.headers["x-request-id"]


async def test_a_refused_request_is_recorded_although_its_transaction_rolls_back(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff, caseworker, other = (
        await sign_in("placement_staff"),
        await sign_in("caseworker"),
        await sign_in("caseworker"),
    )
    youth = await make_youth(client, staff, caseworker)
    refused = await client.get(f"{API}/youth/{youth['id']}", headers=other.headers)
    assert refused.status_code == 404
    denied = await entries_for(resources, entity="youth", entity_id=youth["id"], outcome="denied")
    assert [(e.actor_id, e.status, e.action) for e in denied] == [(other.id, 404, "get_youth")]
    forbidden = await client.get(f"{API}/users", headers=caseworker.headers)
    assert forbidden.status_code == 403
    assert (await entries_for(resources, actor_id=caseworker.id, outcome="denied"))[-1].status == 403


async def test_a_request_without_a_token_is_recorded_as_an_anonymous_denial(
    client: httpx.AsyncClient, resources: Resources
) -> None:
    youth_id = str(uuid.uuid4())
    assert (await client.get(f"{API}/youth/{youth_id}")).status_code == 401
    [entry] = await entries_for(resources, entity_id=youth_id)
    assert (entry.actor, entry.outcome, entry.status) == ("anonymous", "denied", 401)


async def test_the_chain_is_intact_after_normal_use_and_names_an_edited_row(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff = await sign_in("placement_staff")
    await make_safe_house(client, staff, beds=2)
    await resources.sealer.seal_pending()  # the API process's sealer only backs the worker's up
    async with resources.engine.connect() as conn:
        session_report = await verify_chain_on(conn)
        assert session_report.intact, session_report
        victim = await conn.scalar(select(func.max(AuditEntry.seq)).where(AuditEntry.action == "add_bed"))
        await conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        await conn.execute(
            text("UPDATE audit_log SET actor = 'someone else' WHERE seq = :seq"), {"seq": victim}
        )
        report = await verify_chain_on(conn)
        await conn.rollback()  # undo the edit (and the triggers switched off)
    assert not report.intact
    assert report.first_bad_seq == victim and "edited" in (report.reason or "")


async def test_the_chain_names_the_gap_where_a_row_was_deleted(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff = await sign_in("placement_staff")
    await make_safe_house(client, staff, beds=2)
    await resources.sealer.seal_pending()  # the API process's sealer only backs the worker's up
    async with resources.engine.connect() as conn:
        last = await conn.scalar(select(func.max(AuditEntry.seq)))
        assert last is not None
        await conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        await conn.execute(text("DELETE FROM audit_log WHERE seq = :seq"), {"seq": last - 1})
        report = await verify_chain_on(conn)
        await conn.rollback()
    assert report.first_bad_seq == last and "missing" in (report.reason or "")


async def verify_chain_on(conn: AsyncConnection) -> ChainReport:
    async with AsyncSession(bind=conn) as session:
        return await verify_chain(session)


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log", "TRUNCATE audit_log"]
)
async def test_the_database_refuses_to_change_or_remove_audit_rows(
    statement: str, client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    staff = await sign_in("placement_staff")
    await make_safe_house(client, staff, beds=0)
    async with resources.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            await conn.execute(text(statement))
        await conn.rollback()


async def test_admins_read_the_trail_and_reading_it_is_recorded(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    admin = await sign_in("admin")
    response = await client.get(f"{API}/audit", params={"actor_id": str(admin.id)}, headers=admin.headers)
    assert response.status_code == 200
    assert (await entries_for(resources, actor_id=admin.id))[-1].action == "read_audit"


async def test_a_flood_of_unauthenticated_requests_cannot_fill_the_trail(
    client: httpx.AsyncClient, resources: Resources
) -> None:
    youth_id = str(uuid.uuid4())
    for _ in range(150):
        assert (await client.get(f"{API}/youth/{youth_id}")).status_code == 401
    entries = await entries_for(resources, entity_id=youth_id)
    assert len(entries) == 21  # the first 20 this minute, then the 100th
    assert "attempt 100 this minute" in entries[-1].detail["reason"]


async def test_a_wrong_password_is_recorded_however_many_unauthenticated_requests_came_first(
    client: httpx.AsyncClient, resources: Resources
) -> None:
    for _ in range(30):  # past the guard's budget of recorded refusals for this address
        assert (await client.get(f"{API}/youth/{uuid.uuid4()}")).status_code == 401
    login = {"username": f"nobody-{uuid.uuid4().hex[:8]}", "password": "not the password"}
    assert (await client.post(f"{API}/auth/login", json=login)).status_code == 401

    (entry,) = await entries_for(resources, action="login", outcome="denied")
    assert entry.status == 401 and "attempt" not in entry.detail["reason"]


class Undone(Exception):
    """Raised to roll a unit of work back."""


@pytest.mark.parametrize("begun", [True, False], ids=["inside-a-transaction", "before-any-statement"])
async def test_a_read_recorded_on_a_session_commits_with_its_transaction_or_by_itself(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, begun: bool
) -> None:
    """`reads_in`: once the session has begun a transaction the read's entry is part of it (a
    rollback leaves none); before that the statement commits itself, and the entry stays."""
    staff, caseworker = await sign_in("placement_staff"), await sign_in("caseworker")
    youth_id = uuid.UUID((await make_youth(client, staff, caseworker))["id"])
    actor = Actor(user_id=staff.id, name=staff.username, role="placement_staff")
    marker = uuid.uuid4().hex
    with pytest.raises(Undone):
        async with unit_of_work(resources.sessionmaker, actor, marker) as session:
            if begun:
                await session.execute(select(1))
            await get_youth(session, actor, youth_id, date.today())
            raise Undone
    recorded = await entries_for(resources, request_id=marker, action="read_youth")
    assert len(recorded) == (0 if begun else 1)
