"""Someone can always manage users: no admin deactivates themselves, and the last active admin stays."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from placement.core import audit
from placement.core.errors import Conflict
from placement.core.resources import Resources
from placement.core.security import service
from placement.core.security.models import User
from placement.core.security.schemas import UserUpdate
from placement.core.uow import unit_of_work
from tests.conftest import SignedIn

API = "/api/v1"


def as_actor(user: SignedIn) -> audit.Actor:
    return audit.Actor(user_id=user.id, name=user.username, role=user.role)


async def patch_user(
    client: httpx.AsyncClient, admin: SignedIn, user_id: uuid.UUID, **changes: Any
) -> httpx.Response:
    return await client.patch(f"{API}/users/{user_id}", json=changes, headers=admin.headers)


async def active_admins(resources: Resources) -> set[uuid.UUID]:
    async with resources.sessionmaker() as session:
        query = select(User.id).where(User.role == "admin", User.active.is_(True))
        return set(await session.scalars(query))


async def update_as(resources: Resources, actor: audit.Actor, user_id: uuid.UUID, data: UserUpdate) -> str:
    """Run the service in a unit of work of its own; 'updated' or the refusal's detail."""
    try:
        async with unit_of_work(resources.sessionmaker, actor) as session:
            await service.update_user(session, resources, actor, user_id, data)
    except Conflict as refusal:
        return refusal.detail
    return "updated"


def assert_conflict(response: httpx.Response, detail: str) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] == detail


async def test_an_admin_cannot_deactivate_their_own_account(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    admin, other = await sign_in("admin"), await sign_in("admin")
    refused = await patch_user(client, admin, admin.id, active=False, display_name="Gone")
    assert_conflict(refused, "You cannot deactivate your own account.")
    me = await client.get(f"{API}/me", headers=admin.headers)  # nothing written: not signed out
    assert me.status_code == 200 and me.json()["active"] and me.json()["display_name"] != "Gone"
    assert await active_admins(resources) == {admin.id, other.id}


async def test_the_last_active_admin_cannot_be_demoted(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    admin = await sign_in("admin")
    refused = await patch_user(client, admin, admin.id, role="caseworker")
    assert_conflict(refused, service.LAST_ADMIN)
    me = await client.get(f"{API}/me", headers=admin.headers)
    assert me.status_code == 200 and me.json()["role"] == "admin"


async def test_the_last_active_admin_cannot_be_deactivated_by_the_system(
    sign_in: Any, resources: Resources
) -> None:
    admin = await sign_in("admin")
    for change in (UserUpdate(active=False), UserUpdate(role="program_lead")):
        assert await update_as(resources, audit.SYSTEM, admin.id, change) == service.LAST_ADMIN
    assert await active_admins(resources) == {admin.id}


async def test_with_two_admins_one_may_be_demoted_and_then_the_other_is_the_last(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    first, second = await sign_in("admin"), await sign_in("admin")
    demoted = await patch_user(client, first, second.id, role="program_lead")
    assert demoted.status_code == 200 and demoted.json()["role"] == "program_lead"
    assert_conflict(await patch_user(client, first, first.id, role="caseworker"), service.LAST_ADMIN)
    assert await active_admins(resources) == {first.id}


async def test_other_changes_to_the_last_admin_are_allowed(client: httpx.AsyncClient, sign_in: Any) -> None:
    admin = await sign_in("admin")
    renamed = await patch_user(client, admin, admin.id, display_name="Still In Charge", role="admin")
    assert renamed.status_code == 200 and renamed.json()["display_name"] == "Still In Charge"


@pytest.mark.parametrize("change", [{"role": "caseworker"}, {"active": False}], ids=["demote", "deactivate"])
async def test_two_admins_removing_each_other_at_once_leave_one_active_admin(
    change: dict[str, Any], sign_in: Any, resources: Resources
) -> None:
    """Two real transactions at once; a few rounds, since the race without the lock is not certain."""
    for _ in range(3):
        first, second = await sign_in("admin"), await sign_in("admin")
        outcomes = await asyncio.gather(
            update_as(resources, as_actor(first), second.id, UserUpdate(**change)),
            update_as(resources, as_actor(second), first.id, UserUpdate(**change)),
        )
        assert sorted(outcomes) == sorted(["updated", service.LAST_ADMIN])
        survivors = await active_admins(resources)
        assert len(survivors) == 1 and survivors <= {first.id, second.id}
        await demote_all_admins(resources)  # for the next round


async def demote_all_admins(resources: Resources) -> None:
    async with unit_of_work(resources.sessionmaker) as session:
        await session.execute(update(User).where(User.role == "admin").values(role="program_lead"))
