"""Argon2id password hashing, run off the event loop."""

from __future__ import annotations

import threading
from functools import cache

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
# Each argon2id computation takes 64 MiB: at most this many run at once in a process, so a flood
# of sign-ins waits for a slot instead of exhausting memory.
_HASHING = threading.BoundedSemaphore(4)


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile


@cache
def _decoy_hash() -> str:
    """A hash to verify against when the user does not exist, so timing does not tell."""
    return _hasher().hash("no such user: decoy password")


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hash, password)


def _hash(password: str) -> str:
    with _HASHING:
        return _hasher().hash(password)


def _verify(stored: str | None, password: str) -> bool:
    try:
        with _HASHING:
            return _hasher().verify(stored or _decoy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """True if `password` matches `stored`; with no stored hash, spend the same time and say no."""
    return await anyio.to_thread.run_sync(_verify, stored, password)
