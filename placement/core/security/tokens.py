"""Opaque bearer tokens: issued at sign-in, checked on every request, revoked at sign-out."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from placement.core.audit import Actor
from placement.core.security.models import AccessToken, User
from placement.core.settings import Settings

# Refresh `last_used_at` at most this often: an idle timeout of minutes needs no write per request.
TOUCH_INTERVAL = timedelta(seconds=60)


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def issue_token(session: AsyncSession, user_id: uuid.UUID, settings: Settings, now: datetime) -> str:
    """Create a token for the user; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    session.add(
        AccessToken(
            token_hash=digest(token),
            user_id=user_id,
            last_used_at=now,
            expires_at=now + timedelta(hours=settings.token_lifetime_hours),
        )
    )
    return token


class TokenRefused(Exception):
    """The token is unknown, revoked, expired or idle too long; the message says which."""


async def resolve_token(engine: AsyncEngine, token: str, settings: Settings, now: datetime) -> Actor:
    """The actor behind a live token, touching its idle clock. Raises TokenRefused."""
    token_hash = digest(token)
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    User.id,
                    User.username,
                    User.role,
                    AccessToken.last_used_at,
                    AccessToken.expires_at,
                    AccessToken.revoked_at,
                )
                .join(User, User.id == AccessToken.user_id)
                .where(AccessToken.token_hash == token_hash, User.active.is_(True))
            )
        ).first()
        if row is None:
            raise TokenRefused("the token is not recognised")
        if row.revoked_at is not None:
            raise TokenRefused("the token was revoked (signed out)")
        if now >= row.expires_at:
            raise TokenRefused("the token has expired; sign in again")
        if now - row.last_used_at > timedelta(minutes=settings.token_idle_minutes):
            raise TokenRefused("the session was idle too long; sign in again")
        if now - row.last_used_at > TOUCH_INTERVAL:
            await conn.execute(
                update(AccessToken).where(AccessToken.token_hash == token_hash).values(last_used_at=now)
            )
            await conn.commit()
    return Actor(user_id=row.id, name=row.username, role=row.role)


async def revoke_token(session: AsyncSession, token: str, now: datetime) -> None:
    await session.execute(
        update(AccessToken)
        .where(AccessToken.token_hash == digest(token), AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_all_for(session: AsyncSession, user_id: uuid.UUID, now: datetime) -> None:
    """Sign a user out everywhere (after a password change or deactivation)."""
    await session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
