"""Signing in and out, and managing users."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import Conflict, NotFound, Unauthorized
from placement.core.resources import Resources
from placement.core.schemas import Page, changed_fields
from placement.core.security import throttle
from placement.core.security.models import User
from placement.core.security.passwords import hash_password, verify_password
from placement.core.security.schemas import LoginRequest, LoginResponse, UserCreate, UserOut, UserUpdate
from placement.core.security.tokens import issue_token, revoke_all_for


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,  # type: ignore[arg-type]
        active=user.active,
    )


async def sign_in(
    session: AsyncSession, resources: Resources, login: LoginRequest, address: str
) -> LoginResponse:
    """Check the password (throttled per username and per address) and issue a token."""
    username = login.username.strip().lower()
    settings = resources.settings
    # Looked up first: if no database connection comes free (503), no attempt has been counted.
    user = await session.scalar(select(User).where(User.username == username))
    await throttle.count_attempt(resources.redis, settings, username, address)
    stored = user.password_hash if user is not None and user.active else None
    if not await verify_password(stored, login.password) or user is None:
        raise Unauthorized("The username or password is wrong, or the account is disabled.")
    await throttle.forget_attempt(resources.redis, username, address)
    now = resources.clock()
    token = issue_token(session, user.id, settings, now)
    session.info["actor"] = audit.Actor(user_id=user.id, name=user.username, role=user.role)
    audit.record(session, "sign_in", "user", user.id)
    return LoginResponse(
        access_token=token,
        token_type="Bearer",  # noqa: S106 - the scheme name, not a secret
        expires_at=now + timedelta(hours=settings.token_lifetime_hours),
        idle_timeout_minutes=settings.token_idle_minutes,
        user=user_out(user),
    )


async def me(session: AsyncSession, actor: Actor) -> UserOut:
    """The signed-in user."""
    if actor.user_id is None:
        raise Unauthorized("sign in first")
    return user_out(await get_user(session, actor.user_id))


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


async def list_users(session: AsyncSession, limit: int, offset: int) -> Page[UserOut]:
    total = await session.scalar(select(func.count()).select_from(User)) or 0
    users = await session.scalars(select(User).order_by(User.username).limit(limit).offset(offset))
    return Page(items=[user_out(u) for u in users], total=total, limit=limit, offset=offset)


async def create_user(session: AsyncSession, data: UserCreate) -> UserOut:
    username = data.username.lower()
    if await session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"The username {username!r} is taken.")
    user = User(
        username=username,
        display_name=data.display_name,
        role=data.role,
        password_hash=await hash_password(data.password),
    )
    session.add(user)
    await session.flush()
    audit.record(session, "create_user", "user", user.id, role=data.role)
    return user_out(user)


async def update_user(
    session: AsyncSession, resources: Resources, actor: Actor, user_id: uuid.UUID, data: UserUpdate
) -> UserOut:
    """Change a user; a new password, a new role or deactivation signs them out everywhere."""
    changes = changed_fields(data)
    if {"role", "active"} & changes.keys():
        await keep_an_active_admin(session, actor, user_id, changes)
    user = await get_user(session, user_id)
    if "password" in changes:
        user.password_hash = await hash_password(changes["password"])
    for field in ("display_name", "role", "active"):
        if field in changes:
            setattr(user, field, changes[field])
    if {"password", "role"} & changes.keys() or changes.get("active") is False:
        await revoke_all_for(session, resources, user.id, resources.clock())
    audit.record(session, "update_user", "user", user.id, fields=",".join(sorted(changes)))  # names only
    await session.flush()
    return user_out(user)


LAST_ADMIN = "This is the last active administrator: make another user an administrator first."


async def keep_an_active_admin(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, changes: dict[str, Any]
) -> None:
    """Raises Conflict if the change deactivates the actor or leaves no active administrator."""
    if changes.get("active") is False and user_id == actor.user_id:
        raise Conflict("You cannot deactivate your own account.")
    # Locked until the commit, in one order, before the user's row is read: role and status changes
    # take turns, so two admins demoting each other at once cannot both succeed.
    active_admins = select(User.id).where(User.role == "admin", User.active.is_(True))
    admins = set(await session.scalars(active_admins.order_by(User.id).with_for_update()))
    removed = changes.get("active") is False or changes.get("role", "admin") != "admin"
    if removed and admins == {user_id}:
        raise Conflict(LAST_ADMIN)
