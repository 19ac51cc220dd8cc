"""The audit trail: an append-only, hash-chained log of sensitive reads, writes and denials.

Entries are buffered on the session while a request runs and inserted, unsealed, just before its
commit: an entry commits atomically with the change it records, and a rolled-back request leaves
none. An audited read (`Reads`) records itself in the statement that reads, which commits by
itself or with the session's transaction. No lock is taken on either path. The sealer
(`placement.core.audit_sealer`) then chains the committed entries, in insertion order, under a
short lock of its own: each gets its place (`seq`) and its hash over the previous entry's hash. A
refusal is written by a single autocommitted insert, because the refused request's transaction
rolls back.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

import asyncpg
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    Select,
    Sequence,
    SmallInteger,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from placement.core.compiled import Statement, compiled, param
from placement.core.db import Base, driver_connection, pooled_driver

AUDIT_LOCK_KEY = 0x61756469  # "audi": the sealer's advisory lock, held only while it seals
GENESIS_HASH = "0" * 64
Outcome = Literal["allowed", "denied"]


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, Sequence("audit_log_id_seq"), primary_key=True)
    """Insertion order; the chain's order is `seq`, given when the entry is sealed."""
    seq: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    actor_id: Mapped[uuid.UUID | None]
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str] = mapped_column(String(10))
    status: Mapped[int | None] = mapped_column(SmallInteger)
    request_id: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    sealed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(None, "entity", "entity_id"),
        Index(None, "actor_id", "at"),
        Index("ix_audit_log_unsealed", "id", postgresql_where=text("seq IS NULL")),
        # Unique among sealed entries only, so an entry is indexed here once, when it is sealed.
        Index("uq_audit_log_seq", "seq", unique=True, postgresql_where=text("seq IS NOT NULL")),
        Index("uq_audit_log_hash", "hash", unique=True, postgresql_where=text("hash IS NOT NULL")),
        CheckConstraint(
            "(seq IS NULL) = (hash IS NULL) AND (seq IS NULL) = (prev_hash IS NULL)"
            " AND (seq IS NULL) = (sealed_at IS NULL)",
            name="sealed_whole",
        ),
    )


AUDIT_TABLE = cast(Table, AuditEntry.__table__)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user, or the system itself (jobs, CLI)."""

    user_id: uuid.UUID | None
    name: str
    role: str | None


SYSTEM = Actor(user_id=None, name="system", role=None)


def chain_hash(prev_hash: str, fields: dict[str, Any], key: bytes | None = None) -> str:
    """SHA-256 of the previous hash and this entry's fields in canonical JSON; HMAC-SHA-256 with
    the audit key when there is one, so that someone who can write the table (its owner can
    disable the triggers) still cannot forge a chain that verifies."""
    message = (prev_hash + json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)).encode()
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def _key(session: AsyncSession) -> bytes | None:
    key: bytes | None = session.info.get("audit_key")
    return key


def hashed_fields(entry: Mapping[str, Any] | RowMapping | asyncpg.Record, seq: int) -> dict[str, Any]:
    """What an entry's hash covers: its place in the chain and every recorded field (`entry` is a
    row of the audit table, by column name)."""
    return {
        "seq": seq,
        "at": entry["at"].astimezone(UTC).isoformat(),
        "actor_id": str(entry["actor_id"]) if entry["actor_id"] else None,
        "actor": entry["actor"],
        "role": entry["role"],
        "action": entry["action"],
        "entity": entry["entity"],
        "entity_id": entry["entity_id"],
        "outcome": entry["outcome"],
        "status": entry["status"],
        "request_id": entry["request_id"],
        "detail": entry["detail"],
    }


def entry_fields(
    actor: Actor,
    request_id: str | None,
    action: str,
    entity: str,
    entity_id: object | None,
    outcome: Outcome,
    status: int | None,
    detail: dict[str, str | int | bool | None],
) -> dict[str, Any]:
    """The recorded fields of a new entry (what the chain's hash will cover, less its place)."""
    return {
        **reader_fields(actor, request_id, entity_id),
        "action": action,
        "entity": entity,
        "outcome": outcome,
        "status": status,
        "detail": {k: v for k, v in detail.items() if v is not None},
    }


def reader_fields(actor: Actor, request_id: str | None, entity_id: object | None) -> dict[str, Any]:
    """Who did it, when, to which record, in which request: the fields an audited read binds
    (`READER`); the rest of its entry is written into its statement."""
    return {
        "at": datetime.now(UTC),
        "actor_id": actor.user_id,
        "actor": actor.name,
        "role": actor.role,
        "entity_id": None if entity_id is None else str(entity_id),
        "request_id": request_id,
    }


def record(
    session: AsyncSession,
    action: str,
    entity: str,
    entity_id: object | None = None,
    *,
    outcome: Outcome = "allowed",
    status: int | None = None,
    **detail: str | int | bool | None,
) -> None:
    """Buffer an audit entry on the session; it is written just before the commit."""
    actor: Actor = session.info.get("actor", SYSTEM)
    fields = entry_fields(
        actor, session.info.get("request_id"), action, entity, entity_id, outcome, status, detail
    )
    session.info.setdefault("audit", []).append(fields)


RECORDED = (
    "at", "actor_id", "actor", "role", "action", "entity", "entity_id", "outcome", "status", "request_id",
    "detail",
)  # fmt: skip
_INSERT_UNSEALED = compiled(insert(AUDIT_TABLE).values({name: param(name) for name in RECORDED}))


async def insert_unsealed(connection: asyncpg.Connection, entries: list[dict[str, Any]]) -> None:
    """Insert entries, unsealed, in one statement batch on the driver (it is on every audited
    request); `detail` goes as JSON text, as the engine's jsonb codec expects."""
    await _INSERT_UNSEALED.execute_many(
        connection, ({**entry, "detail": json.dumps(entry["detail"])} for entry in entries)
    )


WORD = re.compile(r"[a-z_]+")
READER = tuple(reader_fields(SYSTEM, None, None))
"""What an audited read's entry is given when it runs; the rest is the statement's own."""


def read_and_recorded(query: Select[*tuple[Any, ...]], action: str, entity: str) -> Statement:
    """`query`, and in the same statement an entry recording that it was read (written only when
    it found a row), for `Reads.recorded`: its action and entity are written into the statement,
    and the entry's other fields (READER) are its named parameters."""
    if not (WORD.fullmatch(action) and WORD.fullmatch(entity)):
        raise ValueError(f"{action!r} and {entity!r} are written into SQL: names from the code only")
    found = query.cte("found")
    entry = {
        **{name: bindparam(name, type_=AUDIT_TABLE.c[name].type, required=False) for name in READER},
        "action": literal(action, literal_execute=True),
        "entity": literal(entity, literal_execute=True),
        "outcome": literal("allowed", literal_execute=True),
        "detail": func.jsonb_build_object(),
    }
    chosen = select(*entry.values()).select_from(found).limit(1)
    insert_entry = insert(AUDIT_TABLE).from_select(list(entry), chosen)
    return compiled(select(found).add_cte(insert_entry.cte("recorded")))


@dataclass(frozen=True, slots=True)
class Reads:
    """Audited reads on the driver: where each read gets its connection, who reads, and what to
    call once an entry recording a read has committed (it tells the sealer, at once or after the
    commit)."""

    connect: Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]
    actor: Actor
    request_id: str | None
    committed: Callable[[], None]

    async def recorded(self, statement: Statement, entity_id: object, **values: Any) -> asyncpg.Record | None:
        """Run a `read_and_recorded` statement: one round trip reads the record and audits the read."""
        reader = reader_fields(self.actor, self.request_id, entity_id)
        async with self.connect() as connection:
            row: asyncpg.Record | None = await statement.fetchrow(connection, **values, **reader)
        if row is not None:
            self.committed()
        return row


def _nothing_to_announce() -> None:
    """A session without a sealer to tell (a command's, a test's)."""


async def reads_in(session: AsyncSession, actor: Actor) -> Reads:
    """Audited reads on the session's own connection. If the session has begun no transaction a
    read needs none (its statement commits itself, and the sealer is told at once); inside one,
    the entry commits or rolls back with it, and the unit of work tells the sealer."""
    await session.flush()  # the driver does not autoflush: a change just made must show
    connection = await driver_connection(session, in_transaction=False)
    committed: Callable[[], None] = session.info.get("audit_committed") or _nothing_to_announce
    if connection.is_in_transaction():
        committed = functools.partial(session.info.__setitem__, "audit_recorded", True)
    on_hand = functools.partial(contextlib.nullcontext, connection)
    return Reads(on_hand, actor, session.info.get("request_id"), committed)


async def write_pending(session: AsyncSession) -> int:
    """Insert the session's buffered entries, unsealed, in its transaction; returns how many."""
    pending: list[dict[str, Any]] = session.info.pop("audit", [])
    if pending:
        await insert_unsealed(await driver_connection(session), pending)
    return len(pending)


async def record_at_once(
    engine: AsyncEngine,
    actor: Actor,
    request_id: str | None,
    action: str,
    entity: str,
    entity_id: object | None,
    *,
    outcome: Outcome,
    status: int | None,
    **detail: str | int | bool | None,
) -> None:
    """Write one entry in a single autocommitted statement (for refusals, whose request rolls back)."""
    fields = entry_fields(actor, request_id, action, entity, entity_id, outcome, status, detail)
    async with pooled_driver(engine) as connection:  # no transaction begun: the insert autocommits
        await insert_unsealed(connection, [fields])


@dataclass(frozen=True, slots=True)
class ChainReport:
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head: str = f"0:{GENESIS_HASH}"
    """`seq:hash` of the last entry checked: keep it elsewhere, and a later verify with it as an
    anchor shows whether entries were cut off the end."""
    unsealed: int = 0
    """Committed entries still waiting for the sealer (not yet part of the chain)."""

    @property
    def intact(self) -> bool:
        return self.first_bad_seq is None


async def newest_first(
    session: AsyncSession, query: Select[AuditEntry], limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    """One page of the entries a query selects, newest first, and how many it selects in all."""
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))
    return list(entries), total


async def history_of(
    session: AsyncSession, entity: str, entity_id: object, actions: Collection[str], limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    """What was done to one record, as the trail keeps it: the allowed entries of these actions,
    newest first, and how many there are."""
    query = select(AuditEntry).where(
        AuditEntry.entity == entity,
        AuditEntry.entity_id == str(entity_id),
        AuditEntry.action.in_(actions),
        AuditEntry.outcome == "allowed",
    )
    return await newest_first(session, query, limit, offset)


async def anchor_holds(session: AsyncSession, anchor: str) -> bool:
    """True if the entry `seq:hash` (a head kept from an earlier verify) is still in the chain."""
    seq, _, expected = anchor.partition(":")
    if not seq.isdigit():
        raise ValueError(f"an anchor is SEQ:HASH, not {anchor!r}")
    if int(seq) == 0:
        return expected == GENESIS_HASH
    return await session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == int(seq))) == expected


async def count_unsealed(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).where(AuditEntry.seq.is_(None))) or 0


async def verify_chain(session: AsyncSession, batch: int = 5000) -> ChainReport:
    """Walk the sealed chain in order and name the first entry that does not fit; count the
    entries still waiting to be sealed."""
    unsealed = await count_unsealed(session)
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    while True:
        rows = (
            await session.execute(
                select(AUDIT_TABLE)
                .where(AuditEntry.seq >= expected_seq)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
        ).mappings()
        last_checked = checked
        for entry in rows:
            seq = entry["seq"]
            if seq != expected_seq:
                return ChainReport(checked, seq, f"entries {expected_seq}..{seq - 1} are missing")
            if entry["prev_hash"] != prev_hash:
                return ChainReport(checked, seq, "its previous-hash does not match the entry before it")
            if chain_hash(prev_hash, hashed_fields(entry, seq), _key(session)) != entry["hash"]:
                return ChainReport(checked, seq, "its content does not match its hash (edited)")
            prev_hash, expected_seq, checked = entry["hash"], expected_seq + 1, checked + 1
        if checked == last_checked:
            return ChainReport(checked=checked, head=f"{expected_seq - 1}:{prev_hash}", unsealed=unsealed)
