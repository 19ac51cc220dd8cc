"""The token cache never keeps what a revocation has evicted, even when the two interleave."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from placement.core.audit import Actor
from placement.core.security.token_cache import LiveToken, TokenCache, token_subject, user_subject

HASH = bytes(32)
USER = uuid.uuid4()


def live() -> LiveToken:
    now = datetime.now(UTC)
    return LiveToken(Actor(USER, "casey", "caseworker"), now, now)


def listening_cache() -> TokenCache:
    cache = TokenCache()
    cache.listening = True
    return cache


def test_an_entry_read_before_a_revocation_is_not_kept_after_it() -> None:
    cache = listening_cache()
    generation = cache.generation  # a request starts reading the token from the database
    cache.forget(token_subject(HASH))  # meanwhile the token is revoked and evicted
    cache.keep(HASH, live(), generation)  # the request finishes its read
    assert cache.get(HASH) is None


def test_revoking_a_user_evicts_all_their_tokens() -> None:
    cache = listening_cache()
    for n in range(3):
        cache.keep(bytes([n]) * 32, live(), cache.generation)
    cache.forget(user_subject(USER))
    assert all(cache.get(bytes([n]) * 32) is None for n in range(3))


def test_nothing_is_cached_while_not_subscribed_to_revocations() -> None:
    cache = TokenCache()
    cache.keep(HASH, live(), cache.generation)
    assert cache.get(HASH) is None
