"""A per-process cache of live tokens, kept honest by revocations published on Redis.

Resolving a token costs a database round trip on every request; the cache saves it for a
token seen in the last minute. Revoking (sign-out, deactivation, a new role or password) evicts
the token here at once and, through Redis pub/sub after the commit, in every other process.
Entries also lapse after `CACHE_SECONDS`, which bounds staleness should a message be lost, and
while this process is not subscribed nothing is cached at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import RedisError

from placement.core.audit import Actor

CHANNEL = "placement:token-revocations"
CACHE_SECONDS = 10.0
MAX_ENTRIES = 10_000
log = logging.getLogger("placement.tokens")


@dataclass(slots=True)
class LiveToken:
    actor: Actor
    last_used_at: datetime
    expires_at: datetime
    cached_at: float = 0.0


def token_subject(token_hash: bytes) -> str:
    return f"token:{token_hash.hex()}"


def user_subject(user_id: uuid.UUID) -> str:
    return f"user:{user_id}"


class TokenCache:
    def __init__(self) -> None:
        self._live: dict[bytes, LiveToken] = {}
        self.listening = False
        # Bumped by every revocation: an entry read from the database before a revocation that
        # landed meanwhile is not kept (it may be the revoked token).
        self.generation = 0

    def get(self, token_hash: bytes) -> LiveToken | None:
        entry = self._live.get(token_hash)
        if entry is None or not self.listening or time.monotonic() - entry.cached_at > CACHE_SECONDS:
            return None
        return entry

    def keep(self, token_hash: bytes, entry: LiveToken, generation: int) -> None:
        """Cache `entry`, read from the database at `generation`, unless a revocation came since."""
        if not self.listening or generation != self.generation:
            return
        now = time.monotonic()
        if len(self._live) > MAX_ENTRIES:
            self._live = {h: e for h, e in self._live.items() if now - e.cached_at <= CACHE_SECONDS}
        entry.cached_at = now
        self._live[token_hash] = entry

    def forget(self, subject: str) -> None:
        """Evict a revoked token (`token:<hex>`) or all of a user's (`user:<uuid>`)."""
        self.generation += 1
        kind, _, value = subject.partition(":")
        if kind == "token":
            with contextlib.suppress(ValueError):
                self._live.pop(bytes.fromhex(value), None)
        elif kind == "user":
            for token_hash in [h for h, e in self._live.items() if str(e.actor.user_id) == value]:
                del self._live[token_hash]
        else:
            self._live.clear()

    async def listen(self, redis: Redis) -> None:
        """Follow revocations until cancelled, resubscribing after a failure; cache only while
        subscribed."""
        delay = 0.5
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._live.clear()
                    self.listening, delay = True, 0.5
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self.forget(message["data"].decode())
            except (RedisError, OSError):
                log.warning("token revocations unavailable; resolving every token in the database")
            finally:
                self.listening = False
                self._live.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


async def announce_revocation(cache: TokenCache, redis: Redis, subject: str) -> None:
    """Evict here, then tell every other process (call after the revoking commit)."""
    cache.forget(subject)
    try:
        await redis.publish(CHANNEL, subject)
    except RedisError:
        log.exception("could not publish a token revocation; other processes keep it <= %ss", CACHE_SECONDS)
