"""Login throttling in Redis, so it holds across every API process.

Each attempt is counted *before* the password is checked, atomically, per username and per
client address: a burst of concurrent guesses cannot slip past the limit while the (slow)
password checks run. A successful sign-in clears the username's count and takes its own
attempt back from the address's.
"""

from __future__ import annotations

from redis.asyncio import Redis

from placement.core.errors import TooManyRequests
from placement.core.settings import Settings

# A client address may fail this many times more than one username before it is stopped,
# so a shared office address is not locked out by one person's typos.
ADDRESS_FACTOR = 4

# INCR each key; start its window (EXPIRE) if it has none; return [count, ttl] per key.
_COUNT_ATTEMPT = """
local result = {}
for i, key in ipairs(KEYS) do
    local count = redis.call('INCR', key)
    if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[1]) end
    result[i] = {count, redis.call('TTL', key)}
end
return result
"""


def _keys(username: str, address: str) -> list[str]:
    return [f"login-attempts:user:{username}", f"login-attempts:addr:{address}"]


async def count_attempt(redis: Redis, settings: Settings, username: str, address: str) -> None:
    """Count this attempt; raise TooManyRequests (429, with Retry-After) if it is over a limit."""
    keys = _keys(username, address)
    (user_count, user_ttl), (addr_count, addr_ttl) = await redis.eval(  # type: ignore[misc]
        _COUNT_ATTEMPT, len(keys), *keys, str(settings.login_window_seconds)
    )
    over = [
        int(ttl)
        for count, limit, ttl in (
            (user_count, settings.login_max_failures, user_ttl),
            (addr_count, settings.login_max_failures * ADDRESS_FACTOR, addr_ttl),
        )
        if int(count) > limit
    ]
    if over:
        raise TooManyRequests(
            "Too many sign-in attempts; wait before trying again.", retry_after=max(1, *over)
        )


async def forget_attempt(redis: Redis, username: str, address: str) -> None:
    """A successful sign-in: clear the username's count, take this attempt off the address's."""
    user_key, addr_key = _keys(username, address)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(user_key)
        pipe.decr(addr_key)
        await pipe.execute()
