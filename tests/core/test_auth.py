"""Signing in and out: argon2id passwords, opaque tokens, idle and absolute expiry, throttling."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.app import create_app
from placement.core.audit import AuditEntry
from placement.core.security.models import AccessToken, User
from placement.core.security.tokens import digest
from placement.core.settings import Settings
from tests.conftest import TEST_PASSWORD, FakeClock

API = "/api/v1"


async def login(client: httpx.AsyncClient, username: str, password: str = TEST_PASSWORD) -> httpx.Response:
    return await client.post(f"{API}/auth/login", json={"username": username, "password": password})


async def test_sign_in_returns_an_opaque_token_stored_only_as_its_hash(
    client: httpx.AsyncClient, sign_in: Any, db: AsyncSession
) -> None:
    user = await sign_in("caseworker")
    response = await login(client, user.username)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer" and body["user"]["role"] == "caseworker"
    token = body["access_token"]
    stored = (await db.scalars(select(AccessToken.token_hash).where(AccessToken.user_id == user.id))).all()
    assert digest(token) in stored
    assert all(token.encode() not in h for h in stored)
    password_hash = await db.scalar(select(User.password_hash).where(User.id == user.id))
    assert password_hash is not None and password_hash.startswith("$argon2id$")
    me = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == user.username


async def test_wrong_password_and_unknown_user_get_the_same_401(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    user = await sign_in("caseworker")
    wrong = await login(client, user.username, "not the password")
    unknown = await login(client, "nobody-here")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_sign_out_revokes_the_token(client: httpx.AsyncClient, sign_in: Any) -> None:
    user = await sign_in("placement_staff")
    assert (await client.post(f"{API}/auth/logout", headers=user.headers)).status_code == 204
    after = await client.get(f"{API}/me", headers=user.headers)
    assert after.status_code == 401
    assert "revoked" in after.json()["detail"]


async def test_a_token_dies_after_the_idle_timeout(
    client: httpx.AsyncClient, sign_in: Any, clock: FakeClock
) -> None:
    user = await sign_in("caseworker")
    clock.advance(minutes=20)
    assert (await client.get(f"{API}/me", headers=user.headers)).status_code == 200
    clock.advance(minutes=25)  # 25 idle minutes since the last use: still alive
    assert (await client.get(f"{API}/me", headers=user.headers)).status_code == 200
    clock.advance(minutes=31)
    idle = await client.get(f"{API}/me", headers=user.headers)
    assert idle.status_code == 401 and "idle" in idle.json()["detail"]


async def test_a_token_dies_at_its_absolute_lifetime_even_when_used(
    client: httpx.AsyncClient, sign_in: Any, clock: FakeClock
) -> None:
    user = await sign_in("caseworker")
    for _ in range(12 * 3):  # used every 20 minutes for 12 hours
        clock.advance(minutes=20)
        response = await client.get(f"{API}/me", headers=user.headers)
    assert response.status_code == 401 and "expired" in response.json()["detail"]


async def test_a_deactivated_user_is_signed_out_at_once(client: httpx.AsyncClient, sign_in: Any) -> None:
    admin, user = await sign_in("admin"), await sign_in("caseworker")
    assert (await client.get(f"{API}/me", headers=user.headers)).status_code == 200  # now cached
    patched = await client.patch(f"{API}/users/{user.id}", json={"active": False}, headers=admin.headers)
    assert patched.status_code == 200, patched.text
    assert (await client.get(f"{API}/me", headers=user.headers)).status_code == 401
    assert (await login(client, user.username)).status_code == 401


async def test_failed_sign_ins_are_throttled_across_processes(
    client: httpx.AsyncClient, sign_in: Any, settings: Settings
) -> None:
    """Five failures on one API process lock the username on another process too (shared Redis)."""
    user = await sign_in("caseworker")
    for _ in range(settings.login_max_failures):
        assert (await login(client, user.username, "wrong password!")).status_code == 401
    other = create_app(settings)
    async with other.lifespan():
        transport = httpx.ASGITransport(app=other)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://other.local") as second:
            refused = await login(second, user.username)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["content-type"].startswith("application/problem+json")


async def test_a_new_role_signs_the_user_out_so_no_token_keeps_the_old_role(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    admin, staff = await sign_in("admin"), await sign_in("placement_staff")
    assert (await client.get(f"{API}/youth", headers=staff.headers)).status_code == 200  # now cached
    demoted = await client.patch(
        f"{API}/users/{staff.id}", json={"role": "program_lead"}, headers=admin.headers
    )
    assert demoted.status_code == 200 and demoted.json()["role"] == "program_lead"
    assert (await client.get(f"{API}/youth", headers=staff.headers)).status_code == 401


async def test_a_sign_out_reaches_another_process_that_cached_the_token(
    client: httpx.AsyncClient, sign_in: Any, settings: Settings
) -> None:
    """Process B has the token cached; sign-out on process A must stop it there too, at once."""
    user = await sign_in("placement_staff")
    other = create_app(settings)
    async with other.lifespan():
        transport = httpx.ASGITransport(app=other)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://other.local") as second:
            await asyncio.sleep(0.05)  # B subscribes to revocations
            assert (await second.get(f"{API}/me", headers=user.headers)).status_code == 200
            assert other.state.resources.tokens.get(digest(user.token)) is not None  # cached in B
            assert (await client.post(f"{API}/auth/logout", headers=user.headers)).status_code == 204
            statuses = []
            for _ in range(20):
                statuses.append((await second.get(f"{API}/me", headers=user.headers)).status_code)
                if statuses[-1] == 401:
                    break
                await asyncio.sleep(0.01)
    assert statuses[-1] == 401, statuses
    assert len(statuses) <= 3, f"B kept a revoked token for {len(statuses)} requests"


async def test_a_burst_of_concurrent_guesses_cannot_pass_the_limit(
    client: httpx.AsyncClient, sign_in: Any, settings: Settings
) -> None:
    user = await sign_in("caseworker")
    burst = await asyncio.gather(*(login(client, user.username, f"guess number {n}") for n in range(20)))
    statuses = sorted(r.status_code for r in burst)
    assert statuses.count(401) == settings.login_max_failures, statuses
    assert statuses.count(429) == 20 - settings.login_max_failures


async def test_a_successful_sign_in_clears_the_username_count(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    user = await sign_in("caseworker")
    for _ in range(3):
        assert (await login(client, user.username, "wrong password!")).status_code == 401
    assert (await login(client, user.username)).status_code == 200
    for _ in range(4):
        assert (await login(client, user.username, "wrong password!")).status_code == 401


async def test_admin_creates_a_user_who_can_sign_in(client: httpx.AsyncClient, sign_in: Any) -> None:
    admin = await sign_in("admin")
    body = {
        "username": "new.caseworker",
        "display_name": "New Caseworker",
        "role": "caseworker",
        "password": "a long enough password",
    }
    created = await client.post(f"{API}/users", json=body, headers=admin.headers)
    assert created.status_code == 201, created.text
    assert "password" not in created.text
    assert (await login(client, "new.caseworker", "a long enough password")).status_code == 200
    again = await client.post(f"{API}/users", json=body, headers=admin.headers)
    assert again.status_code == 409


async def test_a_new_user_needs_a_long_password_and_a_known_role(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    admin = await sign_in("admin")
    short = {"username": "x.y.z", "display_name": "X", "role": "caseworker", "password": "short"}
    assert (await client.post(f"{API}/users", json=short, headers=admin.headers)).status_code == 400
    bad_role = {**short, "password": "a long enough password", "role": "superuser"}
    assert (await client.post(f"{API}/users", json=bad_role, headers=admin.headers)).status_code == 400


async def test_an_admin_sets_a_users_password_which_ends_their_sign_ins_and_replaces_the_old_one(
    client: httpx.AsyncClient, sign_in: Any, db: AsyncSession
) -> None:
    admin, user = await sign_in("admin"), await sign_in("caseworker")
    new = {"password": "a brand new long password"}
    assert (await client.get(f"{API}/me", headers=user.headers)).status_code == 200  # now cached

    changed = await client.patch(f"{API}/users/{user.id}", json=new, headers=admin.headers)

    assert changed.status_code == 200, changed.text
    assert "password" not in changed.text
    assert (await client.get(f"{API}/me", headers=user.headers)).status_code == 401
    assert (await login(client, user.username)).status_code == 401
    assert (await login(client, user.username, new["password"])).status_code == 200
    details = await db.scalars(
        select(AuditEntry.detail).where(
            AuditEntry.action == "update_user", AuditEntry.entity_id == str(user.id)
        )
    )
    assert list(details) == [{"fields": "password"}]  # the field's name, never its value


async def test_a_password_an_admin_sets_is_as_long_as_a_new_users_and_only_admins_set_one(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    admin, staff, user = await sign_in("admin"), await sign_in("placement_staff"), await sign_in("caseworker")
    short = await client.patch(f"{API}/users/{user.id}", json={"password": "short"}, headers=admin.headers)
    assert short.status_code == 400 and "length" in short.json()["detail"]
    new = {"password": "a brand new long password"}
    for who in (staff, user):  # not placement staff, nor the user themself
        assert (
            await client.patch(f"{API}/users/{user.id}", json=new, headers=who.headers)
        ).status_code == 403
    assert (await client.get(f"{API}/me", headers=user.headers)).status_code == 200  # still signed in
    assert (await login(client, user.username)).status_code == 200  # the old password still works
