"""The audit sealer: chains committed audit entries soon after they commit.

Requests insert their entries unsealed and take no lock. Every process that serves requests or runs
jobs keeps one sealer on a connection of its own. The worker's seals promptly: every `interval`
seconds, and whenever its own process commits entries. So does a process that runs the worker
inline. An API process beside a worker keeps a backstop sealer, which seals only entries left
waiting past a moment (the worker stopped, or was never started), so that serving requests costs it
no sealing while the worker runs. A sealer takes the chain's advisory lock for one short
transaction, reads the chain's head and the oldest unsealed entries in insertion order, and gives
each its `seq`, the previous hash and its own hash. Sealers of different processes take turns under
that lock; requests never wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import asyncpg
from sqlalchemy import BigInteger, Interval, String, bindparam, exists, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from placement.core.audit import (
    AUDIT_LOCK_KEY,
    AUDIT_TABLE,
    GENESIS_HASH,
    RECORDED,
    AuditEntry,
    chain_hash,
    hashed_fields,
)
from placement.core.compiled import compiled, param
from placement.core.db import pooled_driver

log = logging.getLogger("placement.audit")
Observe = Callable[[list[float]], None]
KEY_MISMATCH_RETRY_S = 30
LOCK_RETRY_S = 0.02  # an exiting process waits this long between tries for a busy chain lock
DATABASE_FAILURES = (
    SQLAlchemyError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)
"""What a sealer retries after: the pool's errors, and the driver's its statements raise."""

# The sealer's statements, run straight on the driver: a sealer looks several times a second and
# seals every entry, and through the engine's layers they had cost a twentieth of a process's CPU.
_ANY_UNSEALED = compiled(select(exists().where(AuditEntry.seq.is_(None))))
_ANY_KEPT_WAITING = compiled(
    select(
        exists().where(
            AuditEntry.seq.is_(None), AuditEntry.at < func.now() - bindparam("waited", type_=Interval)
        )
    )
)
_TRY_LOCK = compiled(select(func.pg_try_advisory_xact_lock(AUDIT_LOCK_KEY)))
_HEAD = compiled(
    select(AUDIT_TABLE).where(AuditEntry.seq.is_not(None)).order_by(AuditEntry.seq.desc()).limit(1)
)
_RECORDED = [AUDIT_TABLE.c.id, *(AUDIT_TABLE.c[name] for name in RECORDED)]  # what it carries unsealed
_UNSEALED = compiled(
    select(*_RECORDED).where(AuditEntry.seq.is_(None)).order_by(AuditEntry.id).limit(param("limit"))
)
_SEALS = (
    func.unnest(
        bindparam("entry_ids", type_=ARRAY(BigInteger), required=False),
        bindparam("seqs", type_=ARRAY(BigInteger), required=False),
        bindparam("prev_hashes", type_=ARRAY(String), required=False),
        bindparam("hashes", type_=ARRAY(String), required=False),
    )
    .table_valued("entry_id", "seq", "prev_hash", "hash")
    .render_derived(name="seal")
)
_SEAL = compiled(  # one statement for the batch: a statement a row cost the database several times more
    update(AUDIT_TABLE)
    .where(AUDIT_TABLE.c.id == _SEALS.c.entry_id, AUDIT_TABLE.c.seq.is_(None))
    .values(seq=_SEALS.c.seq, prev_hash=_SEALS.c.prev_hash, hash=_SEALS.c.hash, sealed_at=param("sealed_at"))
)


class SealingIncomplete(Exception):
    """A batch's update did not seal exactly its entries (the chain would have a gap): it rolls back."""


class KeyMismatch(Exception):
    """The chain's last entry does not verify with this process's key: another
    PLACEMENT_AUDIT_KEY (or none) sealed it, or it was edited. Sealing on would break the chain
    for good, so the entries wait, unsealed, for a sealer with the right key."""


async def seal_batch(connection: asyncpg.Connection, key: bytes | None, limit: int) -> list[float] | None:
    """Chain up to `limit` unsealed entries, oldest first, in the connection's transaction.

    Returns each sealed entry's delay in seconds (from being recorded to being sealed), or None
    if another sealer holds the lock (it seals them). Raises KeyMismatch.
    """
    if not await _TRY_LOCK.fetchval(connection):
        return None
    head = await _HEAD.fetchrow(connection)
    seq, prev = (head["seq"], head["hash"]) if head else (0, GENESIS_HASH)
    if head and chain_hash(head["prev_hash"], hashed_fields(head, seq), key) != prev:
        raise KeyMismatch(f"audit entry {seq} does not verify with this process's PLACEMENT_AUDIT_KEY")
    rows = await _UNSEALED.fetch(connection, limit=limit)
    if not rows:
        return []
    now = datetime.now(UTC)
    seqs, prev_hashes, hashes = [], [], []
    for row in rows:
        seq += 1
        seqs.append(seq)
        prev_hashes.append(prev)
        prev = chain_hash(prev, hashed_fields(row, seq), key)
        hashes.append(prev)
    entry_ids = [row["id"] for row in rows]
    sealed = await _SEAL.execute(
        connection, entry_ids=entry_ids, seqs=seqs, prev_hashes=prev_hashes, hashes=hashes, sealed_at=now
    )
    if sealed != f"UPDATE {len(rows)}":  # the chain would have a gap: roll the batch back
        raise SealingIncomplete(f"sealing {len(rows)} audit entries changed other rows: {sealed}")
    return [(now - row["at"]).total_seconds() for row in rows]


class AuditSealer:
    """One process's sealer: `start()` runs it in the background, `nudge()` after a commit with
    entries wakes it, `close()` stops it.

    A prompt sealer (the worker's, or a process's that runs the worker inline) seals every
    `interval` seconds and whenever its process commits entries. A backstop sealer (an API process
    beside a worker) is not woken by its commits: it seals only once some entry has waited past
    `backstop` seconds, which happens when no prompt sealer is running. The API processes thus
    spend no time sealing while the worker does it, and the delay stays bounded if it stops.

    Its `engine` is the process's audit connections, apart from the requests' pool: the sealer's,
    and one for refusals, so that recording a refusal never queues behind requests.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        key: bytes | None,
        *,
        interval: float = 0.1,
        gather: float = 0.02,
        batch: int = 5000,
        backstop: float | None = None,
    ) -> None:
        self.engine = engine
        self.backstop = None if backstop is None else timedelta(seconds=backstop)
        self._key = key
        self._interval = interval
        self._gather = gather  # a moment for concurrent commits to join the same batch
        self._batch = batch
        self._wake = asyncio.Event()
        self.observers: list[Observe] = []
        self.recorded = False  # this process committed entries (so it seals before it exits)
        self._running: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the sealer as a task of the running event loop, until `stop()` or `close()`."""
        self._running = asyncio.create_task(self.run())

    async def stop(self) -> None:
        """Stop the background task, if running, and wait until it has."""
        if self._running is not None:
            self._running.cancel()
            await asyncio.gather(self._running, return_exceptions=True)
            self._running = None

    async def close(self) -> None:
        await self.stop()
        await self.engine.dispose()

    def nudge(self) -> None:
        """Entries were committed: seal them soon (a backstop sealer leaves that to the prompt one)."""
        self.recorded = True
        if self.backstop is None:
            self._wake.set()

    async def seal_pending(self, *, wait_for_lock: bool = False) -> int:
        """Seal every entry committed so far, unless another sealer is at it (then leave them to
        it, or with `wait_for_lock` take turns after it); returns how many were sealed. Raises
        KeyMismatch."""
        total = 0
        async with pooled_driver(self.engine, harmless=(KeyMismatch,)) as connection:
            while await _ANY_UNSEALED.fetchval(connection):  # autocommitted: no lock when there are none
                async with connection.transaction():
                    delays = await seal_batch(connection, self._key, self._batch)
                if delays is None and wait_for_lock:
                    await asyncio.sleep(LOCK_RETRY_S)
                    continue
                if delays is None:
                    break
                for observe in self.observers:
                    observe(delays)
                total += len(delays)
                if len(delays) < self._batch:
                    break
        return total

    async def seal_before_exit(self, within: float = 5.0) -> None:
        """Seal what is pending if this process recorded anything (a command that only read leaves
        the chain alone), taking turns with other sealers: a sealer busy at the moment may have read
        its batch before this process's last commit. Give up after `within` seconds, leaving the
        rest to the running sealers."""
        if not self.recorded:
            return
        try:
            async with asyncio.timeout(within):
                await self.seal_pending(wait_for_lock=True)
        except (KeyMismatch, TimeoutError, *DATABASE_FAILURES) as failure:
            log.error("audit entries left unsealed at exit: %s", failure)

    async def _entries_kept_waiting(self) -> bool:
        """Some entry has waited past the backstop (by the database's clock against the entry's)."""
        async with pooled_driver(self.engine) as connection:
            return bool(await _ANY_KEPT_WAITING.fetchval(connection, waited=self.backstop))

    async def run(self) -> None:
        """Seal when nudged, and every `interval` seconds, until cancelled; outages are retried."""
        while True:
            with contextlib.suppress(TimeoutError):  # asyncio.timeout: wait_for can swallow a cancel
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            await asyncio.sleep(self._gather)
            self._wake.clear()
            try:
                if self.backstop is None or await self._entries_kept_waiting():
                    await self.seal_pending()
            except KeyMismatch as mismatch:
                log.error("audit sealing refused, retrying in %d s: %s", KEY_MISMATCH_RETRY_S, mismatch)
                await asyncio.sleep(KEY_MISMATCH_RETRY_S)
            except DATABASE_FAILURES as failure:
                log.warning("audit sealing failed, retrying in a second: %s", type(failure).__name__)
                await asyncio.sleep(1)
            except Exception:  # never the end of the sealer: entries would wait until a restart
                log.exception("audit sealing failed unexpectedly, retrying in a second")
                await asyncio.sleep(1)
