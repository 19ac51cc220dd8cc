"""Login throttling in Redis, so it holds across every API process."""

from __future__ import annotations

from redis.asyncio import Redis

from placement.core.errors import TooManyRequests
from placement.core.settings import Settings

# A client address may fail this many times more than one username before it is stopped,
# so a shared office address is not locked out by one person's typos.
ADDRESS_FACTOR = 4


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"login-failures:user:{username}", f"login-failures:addr:{address}"


async def check_not_throttled(redis: Redis, settings: Settings, username: str, address: str) -> None:
    """Raise TooManyRequests (429, with Retry-After) while either counter is over its limit."""
    user_key, addr_key = _keys(username, address)
    async with redis.pipeline(transaction=False) as pipe:
        for command in (pipe.get, pipe.ttl):
            command(user_key)
            command(addr_key)
        user_count, addr_count, user_ttl, addr_ttl = await pipe.execute()
    # (execute returns the replies in the order queued: get user, get addr, ttl user, ttl addr)
    limits = (
        (int(user_count or 0), settings.login_max_failures, user_ttl),
        (int(addr_count or 0), settings.login_max_failures * ADDRESS_FACTOR, addr_ttl),
    )
    waits = [max(int(ttl), 1) for count, limit, ttl in limits if count >= limit]
    if waits:
        raise TooManyRequests(
            "Too many failed sign-in attempts; wait before trying again.", retry_after=max(waits)
        )


async def record_failure(redis: Redis, settings: Settings, username: str, address: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        for key in _keys(username, address):
            # The window starts at the first failure (SET NX EX; INCR keeps the TTL): Redis 6 too.
            pipe.set(key, 0, ex=settings.login_window_seconds, nx=True)
            pipe.incr(key)
        await pipe.execute()


async def clear_failures(redis: Redis, username: str) -> None:
    await redis.delete(_keys(username, "")[0])
