"""Opaque bearer tokens: issued at sign-in, checked on every request, revoked at sign-out."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from placement.core.audit import Actor
from placement.core.resources import Resources
from placement.core.security.models import AccessToken, User
from placement.core.security.token_cache import LiveToken, announce_revocation, token_subject, user_subject
from placement.core.settings import Settings
from placement.core.uow import after_commit

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


async def resolve_token(resources: Resources, token: str, now: datetime) -> Actor:
    """The actor behind a live token. Raises TokenRefused.

    A token used within the last minute is taken from the process's cache (revocations evict it
    everywhere); otherwise the database decides, and the token's idle clock is touched.
    """
    token_hash = digest(token)
    live = resources.tokens.get(token_hash)
    if live is None or now - live.last_used_at > TOUCH_INTERVAL:
        generation = resources.tokens.generation
        live = await _check_and_touch(resources, token_hash, now)
        resources.tokens.keep(token_hash, live, generation)
    elif now >= live.expires_at:
        raise TokenRefused("the token has expired; sign in again")
    return live.actor


async def _check_and_touch(resources: Resources, token_hash: bytes, now: datetime) -> LiveToken:
    # Autocommit: one statement (two when touching), no BEGIN/ROLLBACK round trips.
    async with resources.engine.connect() as connection:
        conn = await connection.execution_options(isolation_level="AUTOCOMMIT")
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
        if now - row.last_used_at > timedelta(minutes=resources.settings.token_idle_minutes):
            raise TokenRefused("the session was idle too long; sign in again")
        last_used_at = row.last_used_at
        if now - last_used_at > TOUCH_INTERVAL:
            await conn.execute(
                update(AccessToken).where(AccessToken.token_hash == token_hash).values(last_used_at=now)
            )
            last_used_at = now
    actor = Actor(user_id=row.id, name=row.username, role=row.role)
    return LiveToken(actor, last_used_at, row.expires_at)


async def revoke_token(session: AsyncSession, resources: Resources, token: str, now: datetime) -> None:
    token_hash = digest(token)
    await _revoke(session, resources, AccessToken.token_hash == token_hash, token_subject(token_hash), now)


async def revoke_all_for(
    session: AsyncSession, resources: Resources, user_id: uuid.UUID, now: datetime
) -> None:
    """Sign a user out everywhere (after a password or role change, or deactivation)."""
    await _revoke(session, resources, AccessToken.user_id == user_id, user_subject(user_id), now)


async def _revoke(
    session: AsyncSession, resources: Resources, which: ColumnElement[bool], subject: str, now: datetime
) -> None:
    """Revoke the live tokens `which` selects; evict them from every process's cache on commit."""
    await session.execute(
        update(AccessToken).where(which, AccessToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    after_commit(session, lambda: announce_revocation(resources.tokens, resources.redis, subject))
