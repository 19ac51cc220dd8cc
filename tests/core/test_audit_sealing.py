"""Audit sealing under concurrency: entries commit unsealed with their change, and sealers of
several processes chain them into one gapless chain that holds exactly the committed entries.

The writers are real OS processes (`tests.core.audit_writers`), each with its own `Resources` and,
unless told otherwise, its own sealer. This process's app (the `client` fixture) runs a sealer too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from placement.core import audit
from placement.core.audit import (
    AUDIT_LOCK_KEY,
    AuditEntry,
    ChainReport,
    anchor_holds,
    chain_hash,
    hashed_fields,
    verify_chain,
)
from placement.core.audit_sealer import AuditSealer, KeyMismatch, seal_batch
from placement.core.db import create_engine, pooled_driver
from placement.core.resources import SEALING_BACKSTOP_S, Resources
from placement.core.security.models import User
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from tests.core.audit_writers import REFUSAL, WRITE, WriterConfig, read_report, username
from tests.factories import API, make_safe_house

REPO = Path(__file__).resolve().parents[2]
SEALING_FAILED = "audit sealing failed"  # the sealer's warning before it retries
SEALED_WITHIN = 1.0  # seconds from commit to sealed, for another process's entries (backstop: 0.5 s)


# --- writer processes -----------------------------------------------------------------------------


@dataclass
class Writer:
    config: WriterConfig
    process: asyncio.subprocess.Process
    stderr: Path

    @property
    def proc(self) -> int:
        return self.config.proc

    def report(self) -> list[dict[str, Any]]:
        return read_report(Path(self.config.report))

    def units(self) -> list[dict[str, Any]]:
        return [line for line in self.report() if "unit" in line]

    def committed(self) -> int:
        return sum(1 for line in self.units() if line["committed"])

    def ready(self) -> bool:
        return any(line.get("ready") for line in self.report())

    def failure(self) -> str:
        return f"writer {self.proc} exited {self.process.returncode}: {self.stderr.read_text()[-3000:]}"


class Writers:
    """Starts writer processes for one test (the `writers` fixture kills any still running after)."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings, self.folder = settings, folder
        self.started: list[Writer] = []

    async def start(self, run: str, proc: int, **options: Any) -> Writer:
        assert self.settings.database_url and self.settings.redis_url
        config = WriterConfig(
            database_url=self.settings.database_url,
            redis_url=self.settings.redis_url,
            audit_key=self.settings.audit_key,
            run=run,
            proc=proc,
            report=str(self.folder / f"writer-{proc}.jsonl"),
            stop=str(self.folder / "stop"),
            seed=hash((run, proc)),
            **options,
        )
        stderr = self.folder / f"writer-{proc}.err"
        with stderr.open("w") as errors:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.core.audit_writers",
                config.to_json(),
                cwd=REPO,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=errors,
            )
        self.started.append(Writer(config, process, stderr))
        return self.started[-1]

    def stop(self) -> None:
        """Ask the writers still running to finish their units, seal and exit."""
        (self.folder / "stop").touch()


@pytest.fixture
async def writers(settings: Settings, tmp_path: Path) -> AsyncIterator[Writers]:
    pool = Writers(settings, tmp_path)
    yield pool
    for writer in pool.started:
        if writer.process.returncode is None:
            writer.process.kill()
            await writer.process.wait()


async def wait_for(condition: Callable[[], bool], writers: list[Writer], within: float, what: str) -> None:
    """Poll `condition` for `within` seconds; fail early, with its stderr, if a writer has exited."""
    deadline = time.monotonic() + within
    while not condition():
        for writer in writers:
            assert writer.process.returncode is None, writer.failure()
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def start_together(writers: list[Writer]) -> None:
    await wait_for(
        lambda: all(w.ready() for w in writers), writers, 20, "the writers to open their resources"
    )
    for writer in writers:
        assert writer.process.stdin is not None
        writer.process.stdin.write(b"go\n")
        await writer.process.stdin.drain()


async def finish(writers: list[Writer]) -> None:
    for writer in writers:
        async with asyncio.timeout(30):
            await writer.process.wait()
        assert writer.process.returncode == 0, writer.failure()


# --- reading the trail ----------------------------------------------------------------------------


def session_on(conn: AsyncConnection, resources: Resources) -> AsyncSession:
    """A session on `conn` that verifies with the app's audit key."""
    return AsyncSession(bind=conn, info={"audit_key": resources.sessionmaker.kw["info"]["audit_key"]})


async def verify_chain_on(conn: AsyncConnection, resources: Resources) -> ChainReport:
    async with session_on(conn, resources) as session:
        return await verify_chain(session)


async def whole_chain(resources: Resources) -> tuple[ChainReport, int]:
    """The chain's report and how many entries the table holds in all."""
    async with resources.sessionmaker() as session:
        report = await verify_chain(session)
        rows = await session.scalar(select(func.count()).select_from(AuditEntry)) or 0
    return report, rows


async def entries_of_run(resources: Resources, run: str) -> list[AuditEntry]:
    """The run's entries, in chain order (unsealed ones last)."""
    async with resources.sessionmaker() as session:
        query = (
            select(AuditEntry)
            .where(AuditEntry.detail["run"].astext == run)
            .order_by(AuditEntry.seq.asc().nulls_last(), AuditEntry.id)
        )
        return list((await session.scalars(query)).all())


async def users_of_run(resources: Resources, run: str) -> dict[str, str]:
    """username -> id of the users the run's writers created (and committed)."""
    async with resources.sessionmaker() as session:
        rows = await session.execute(
            select(User.username, User.id).where(User.username.like(f"seal-{run}-%"))
        )
        return {name: str(user_id) for name, user_id in rows.all()}


async def sealed(
    resources: Resources, *where: Any, within: float = 2.0, none_left: bool = False
) -> list[AuditEntry]:
    """The entries matching `where`, once every one of them is sealed (fails after `within` s);
    with `none_left`, once none matches any longer."""
    deadline = time.monotonic() + within
    while True:
        async with resources.sessionmaker() as session:
            entries = list(
                (await session.scalars(select(AuditEntry).where(*where).order_by(AuditEntry.id))).all()
            )
        if (entries or none_left) and all(e.seq is not None for e in entries):
            return entries
        assert time.monotonic() < deadline, f"{sum(e.seq is None for e in entries)} entries still unsealed"
        await asyncio.sleep(0.02)


@dataclass
class Unit:
    """What the trail and the users table hold of one writer's unit of work."""

    writes: list[AuditEntry] = field(default_factory=list)
    refusals: list[AuditEntry] = field(default_factory=list)
    user_id: str | None = None


def units_seen(entries: list[AuditEntry], users: dict[str, str]) -> dict[tuple[int, int], Unit]:
    seen: dict[tuple[int, int], Unit] = defaultdict(Unit)
    for entry in entries:
        unit = seen[entry.detail["proc"], entry.detail["unit"]]
        (unit.writes if entry.action == WRITE else unit.refusals).append(entry)
    for name, user_id in users.items():
        _, _, proc, number = name.split("-")
        seen[int(proc), int(number)].user_id = user_id
    return seen


# --- 1. several processes, commits and rollbacks interleaved --------------------------------------


async def test_writer_processes_killed_or_not_leave_one_gapless_chain_of_exactly_the_committed_units(
    writers: Writers, resources: Resources, caplog: pytest.LogCaptureFixture
) -> None:
    run = uuid.uuid4().hex[:10]
    survivors = [await writers.start(run, proc) for proc in range(3)]
    killed_sealing = await writers.start(run, 3)
    killed_unsealing = await writers.start(run, 4, seal=False)
    killed = [killed_sealing, killed_unsealing]
    everyone = survivors + killed
    await start_together(everyone)

    await wait_for(
        lambda: all(w.committed() >= 15 for w in killed), everyone, 20, "the doomed writers to commit"
    )
    for writer in killed:
        writer.process.kill()  # SIGKILL: no close(), no last sealing, maybe a unit half done
        await writer.process.wait()
    at_kill = {w.proc: len(w.units()) for w in survivors}
    await wait_for(
        lambda: all(len(w.units()) >= at_kill[w.proc] + 15 for w in survivors),
        survivors,
        20,
        "the surviving writers to go on",
    )
    writers.stop()
    await finish(survivors)
    for writer in everyone:  # under the lock, sealers take turns: none collides with another
        assert SEALING_FAILED not in writer.stderr.read_text(), writer.failure()
    assert SEALING_FAILED not in caplog.text

    report, rows = await whole_chain(resources)
    assert report.intact, report
    assert report.unsealed == 0  # the survivors' sealers also sealed what the killed writers committed
    assert report.checked == rows  # seq runs 1..N without a gap, and every row in the table is in it

    entries = await entries_of_run(resources, run)
    users = await users_of_run(resources, run)
    assert all(e.seq is not None and e.sealed_at is not None and e.sealed_at >= e.at for e in entries)
    reported = {(w.proc, line["unit"]): line for w in everyone for line in w.units()}
    seen = units_seen(entries, users)
    killed_procs = {w.proc for w in killed}
    for key in reported.keys() | seen.keys():
        line, unit = reported.get(key), seen[key]
        name = username(run, *key)
        steps = [e.detail["step"] for e in unit.writes]
        if line is None:  # in flight when its writer was killed: all of it or nothing
            assert key[0] in killed_procs, (key, unit)
            assert (unit.user_id is not None) == bool(unit.writes), (name, unit)
            assert len(unit.refusals) <= 1
            if unit.writes:
                assert steps == list(range(unit.writes[0].detail["of"])), name
            continue
        assert len(unit.refusals) == int(line["refused"]), name  # a refusal stays, even if rolled back
        if line["committed"]:
            assert unit.user_id == line["user_id"], f"{name} committed but its user is missing"
            assert steps == list(range(line["steps"])), f"{name}: entries {steps} of {line['steps']}"
            assert {e.entity_id for e in unit.writes} == {line["user_id"]}
            assert {e.detail["lane"] for e in unit.writes + unit.refusals} == {line["lane"]}
        else:
            assert unit.user_id is None, f"{name} rolled back but its user is there"
            assert unit.writes == [], f"{name} rolled back but left entries {steps}"

    by_lane: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
    for entry in entries:  # in seq order
        kind = 0 if entry.action == REFUSAL else 1  # a unit's refusal is written before its commit
        by_lane[entry.detail["proc"], entry.detail["lane"]].append(
            (entry.detail["unit"], kind, entry.detail.get("step", 0))
        )
    for lane, order in by_lane.items():
        assert order == sorted(set(order)), f"writer {lane[0]} lane {lane[1]}: chained out of order"

    lines = list(reported.values())
    assert (
        sum(line["committed"] for line in lines) >= 60 and sum(not line["committed"] for line in lines) >= 30
    )
    assert any(line.get("steps", 0) > 1 for line in lines) and any(line["refused"] for line in lines)
    assert killed_unsealing.committed() >= 15  # sealed above by others: this writer had no sealer
    procs_in_seq_order = [e.detail["proc"] for e in entries]
    switches = sum(a != b for a, b in itertools.pairwise(procs_in_seq_order))
    assert switches >= 4 * len(everyone), "the writers hardly overlapped; the test proved little"
    print(
        f"\n{len(everyone)} writers: {sum(line['committed'] for line in lines)} units committed,"
        f" {sum(not line['committed'] for line in lines)} rolled back,"
        f" {len(seen.keys() - reported.keys())} in flight at the kill; {len(entries)} entries,"
        f" {switches} switches between writers in seq order; chain of {report.checked}"
    )


async def test_an_entry_that_commits_after_a_later_one_was_sealed_is_still_chained(
    resources: Resources,
) -> None:
    marker = uuid.uuid4().hex
    async with resources.sessionmaker() as slow, slow.begin():
        audit.record(slow, "test_write", "marker", marker, order="inserted first")
        await audit.write_pending(slow)  # has its id now, commits later
        async with unit_of_work(resources.sessionmaker) as quick:
            audit.record(quick, "test_write", "marker", marker, order="inserted second")
        [second] = await sealed(resources, AuditEntry.entity_id == marker)
    first, second = await sealed(resources, AuditEntry.entity_id == marker)
    assert first.detail["order"] == "inserted first" and first.id < second.id
    assert first.seq is not None and second.seq is not None and first.seq > second.seq
    report, _ = await whole_chain(resources)
    assert report.intact, report


# --- 2. sealing delay ------------------------------------------------------------------------------


async def test_another_processs_commits_are_sealed_within_a_second_by_the_periodic_tick(
    writers: Writers, resources: Resources
) -> None:
    """The writer has no sealer and its commits do not nudge ours: only our tick seals them."""
    run = uuid.uuid4().hex[:10]
    writer = await writers.start(
        run,
        0,
        seal=False,
        lanes=1,
        max_units=60,
        rollback_share=0.0,
        refusal_share=0.0,
        max_steps=1,
        pace=0.02,
    )
    await start_together([writer])
    await finish([writer])
    committed_at = {line["user_id"]: line["committed_at"] for line in writer.units()}
    entries = await sealed(resources, AuditEntry.detail["run"].astext == run, within=SEALED_WITHIN + 1)
    assert {e.entity_id for e in entries} == committed_at.keys()
    delays = sorted(
        e.sealed_at.timestamp() - committed_at[e.entity_id]
        for e in entries
        if e.sealed_at is not None and e.entity_id is not None
    )
    p50, worst = statistics.median(delays), delays[-1]
    print(
        f"\nsealing delay over {len(delays)} commits of another process: p50 {p50:.3f} s, max {worst:.3f} s"
    )
    assert worst <= SEALED_WITHIN


async def test_an_api_process_beside_a_worker_seals_only_entries_kept_waiting_past_the_backstop(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources
) -> None:
    """The test app is an API process with no worker inline: its commits do not wake its sealer,
    which seals only once an entry has waited past the backstop (the worker's prompt sealer is not
    running here). A prompt sealer in the same place seals at its next tick."""
    assert resources.sealer.backstop == timedelta(seconds=SEALING_BACKSTOP_S)
    staff = await sign_in("placement_staff")
    await sealed(resources, AuditEntry.seq.is_(None), within=5.0, none_left=True)
    assert await waited_to_be_sealed(resources, client, staff) >= timedelta(seconds=SEALING_BACKSTOP_S)

    key = resources.sessionmaker.kw["info"]["audit_key"]
    prompt = AuditSealer(resources.sealer.engine, key, interval=0.05)
    prompt.start()
    try:
        assert await waited_to_be_sealed(resources, client, staff) < timedelta(seconds=SEALING_BACKSTOP_S)
    finally:
        await prompt.stop()


async def waited_to_be_sealed(resources: Resources, client: httpx.AsyncClient, staff: Any) -> timedelta:
    """How long the entries of one audited request (a new safe house) waited for the sealer."""
    house = await make_safe_house(client, staff, beds=0)
    entries = await sealed(resources, AuditEntry.entity_id == house["id"], within=5.0)
    sealed_at = {e.sealed_at for e in entries}
    assert len(sealed_at) == 1 and None not in sealed_at  # sealed in one batch
    return sealed_at.pop() - min(e.at for e in entries)  # type: ignore[operator]


# --- 3. tampering ----------------------------------------------------------------------------------
# (An edited entry and a deleted middle entry are shown in tests/core/test_audit.py.)


async def sealed_entries(resources: Resources, count: int) -> None:
    async with unit_of_work(resources.sessionmaker) as session:
        for n in range(count):
            audit.record(session, "test_write", "marker", uuid.uuid4().hex, n=n)
    await resources.sealer.seal_pending()


async def test_an_anchor_shows_entries_cut_off_the_end_that_the_chain_alone_cannot(
    resources: Resources,
) -> None:
    await sealed_entries(resources, 4)
    async with resources.engine.connect() as conn:
        await conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        before = await verify_chain_on(conn, resources)
        last = before.checked
        earlier = await conn.scalar(select(AuditEntry.hash).where(AuditEntry.seq == last - 3))
        await conn.execute(text("DELETE FROM audit_log WHERE seq > :keep"), {"keep": last - 2})
        after = await verify_chain_on(conn, resources)
        async with session_on(conn, resources) as session:
            head_holds = await anchor_holds(session, before.head)
            earlier_holds = await anchor_holds(session, f"{last - 3}:{earlier}")
        await conn.rollback()  # undo the cut (and the triggers switched off)
    assert before.intact and after.intact and after.checked == last - 2  # a shorter chain verifies
    assert not head_holds
    assert earlier_holds


async def test_an_anchor_shows_a_tail_rewritten_with_recomputed_hashes(resources: Resources) -> None:
    """Whoever knows the key (or where there is none) can re-hash an edit onwards; an anchor kept
    elsewhere still tells."""
    await sealed_entries(resources, 3)
    key: bytes | None = resources.sessionmaker.kw["info"]["audit_key"]
    async with resources.engine.connect() as conn:
        await conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        before = await verify_chain_on(conn, resources)
        async with session_on(conn, resources) as session:
            tail = (
                await session.scalars(
                    select(AuditEntry).where(AuditEntry.seq >= before.checked - 2).order_by(AuditEntry.seq)
                )
            ).all()
            tail[0].actor = "someone else"
            prev = tail[0].prev_hash
            for entry in tail:
                assert entry.seq is not None and prev is not None
                fields = hashed_fields({name: getattr(entry, name) for name in audit.RECORDED}, entry.seq)
                entry.prev_hash, entry.hash = prev, chain_hash(prev, fields, key)
                prev = entry.hash
            await session.flush()
            after = await verify_chain(session)
            head_holds = await anchor_holds(session, before.head)
        await conn.rollback()
    assert after.intact and after.checked == before.checked  # the rewrite verifies on its own
    assert not head_holds


# --- 4. the trigger --------------------------------------------------------------------------------

SEAL = "UPDATE audit_log SET seq = :seq, prev_hash = :prev, hash = :hash, sealed_at = now()"
LAST_SEALED = " WHERE seq = (SELECT max(seq) FROM audit_log)"


async def unsealed_entry(conn: AsyncConnection) -> int:
    """An entry inserted in `conn`'s open transaction: no sealer can see it, so it stays unsealed."""
    fields = audit.entry_fields(audit.SYSTEM, None, "test_write", "marker", "trigger", "allowed", None, {})
    entry_id: int = (
        await conn.execute(insert(AuditEntry).values(**fields).returning(AuditEntry.id))
    ).scalar_one()
    return entry_id


def made_up_seal() -> dict[str, Any]:
    return {"seq": 10**12 + uuid.uuid4().int % 10**9, "prev": "a" * 64, "hash": uuid.uuid4().hex * 2}


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("UPDATE audit_log SET actor = 'someone else' WHERE id = :id", id="edit-unsealed"),
        pytest.param(SEAL + ", actor = 'someone else' WHERE id = :id", id="seal-with-an-edit"),
        pytest.param("DELETE FROM audit_log WHERE id = :id", id="delete-unsealed"),
        pytest.param("UPDATE audit_log SET actor = 'someone else'" + LAST_SEALED, id="edit-sealed"),
        pytest.param("DELETE FROM audit_log" + LAST_SEALED, id="delete-sealed"),
        pytest.param(SEAL + LAST_SEALED, id="seal-again"),
        pytest.param(
            "UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL, sealed_at = NULL" + LAST_SEALED,
            id="unseal",
        ),
    ],
)
async def test_the_trigger_lets_through_only_the_one_sealing_of_an_unsealed_entry(
    statement: str, resources: Resources
) -> None:
    await sealed_entries(resources, 1)
    async with resources.engine.connect() as conn:
        entry_id = await unsealed_entry(conn)
        with pytest.raises(DBAPIError, match="append-only"):
            async with conn.begin_nested():
                await conn.execute(text(statement), {"id": entry_id, **made_up_seal()})
        sealing = await conn.execute(text(SEAL + " WHERE id = :id"), {"id": entry_id, **made_up_seal()})
        assert sealing.rowcount == 1  # the entry is still there, unchanged, and can be sealed once
        await conn.rollback()


EDITS = {
    "id": "id + 1",
    "at": "at + interval '1 second'",
    "actor_id": "gen_random_uuid()",
    "actor": "'someone else'",
    "role": "'admin_elsewhere'",
    "action": "'another_action'",
    "entity": "'another_entity'",
    "entity_id": "'another-id'",
    "outcome": "'denied'",
    "status": "coalesce(status, 0) + 1",
    "request_id": "'another-request'",
    "detail": """'{"added": true}'::jsonb""",
}
"""An edit of each recorded field, as SQL."""


def test_every_recorded_field_has_an_edit_to_try() -> None:
    sealing = {"seq", "prev_hash", "hash", "sealed_at"}
    assert set(EDITS) == set(AuditEntry.__table__.columns.keys()) - sealing


@pytest.mark.parametrize("column", sorted(EDITS))
async def test_a_sealing_that_edits_a_recorded_field_is_refused(column: str, resources: Resources) -> None:
    async with resources.engine.connect() as conn:
        entry_id = await unsealed_entry(conn)
        with pytest.raises(DBAPIError, match="append-only"):
            async with conn.begin_nested():
                edit = f"{SEAL}, {column} = {EDITS[column]} WHERE id = :id"
                await conn.execute(text(edit), {"id": entry_id, **made_up_seal()})
        await conn.rollback()


@pytest.mark.parametrize(
    "seal",
    [
        pytest.param({"seq": 10**12, "prev_hash": "a" * 64, "hash": "b" * 64}, id="sealed"),
        pytest.param({"seq": 10**12, "prev_hash": "a" * 64}, id="half-sealed"),
    ],
)
async def test_an_entry_cannot_be_inserted_with_a_place_in_the_chain(
    seal: dict[str, Any], resources: Resources
) -> None:
    """Only the sealer places entries: a stray insert cannot jump the chain ahead."""
    fields = audit.entry_fields(audit.SYSTEM, None, "test_write", "marker", "pre-sealed", "allowed", None, {})
    async with resources.engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append-only"):
            await conn.execute(insert(AuditEntry).values(**fields, **seal, sealed_at=func.now()))
        await conn.rollback()


async def test_an_entry_cannot_be_sealed_halfway(resources: Resources) -> None:
    async with resources.engine.connect() as conn:
        entry_id = await unsealed_entry(conn)
        with pytest.raises(IntegrityError, match="ck_audit_log_sealed_whole"):
            await conn.execute(text("UPDATE audit_log SET seq = 10 ^ 12 WHERE id = :id"), {"id": entry_id})
        await conn.rollback()


# --- 5. requests take no system-wide lock ----------------------------------------------------------


AUDITED_WHILE_LOCKED = {
    "read_audit",
    "create_safe_house",
    "add_bed",
    "read_safe_house_location",
    "list_users",
}


async def test_audited_requests_complete_while_the_sealers_lock_is_held_and_are_sealed_after(
    client: httpx.AsyncClient, sign_in: Any, settings: Settings, resources: Resources
) -> None:
    admin, staff, caseworker = (
        await sign_in("admin"),
        await sign_in("placement_staff"),
        await sign_in("caseworker"),
    )
    holder_engine = create_engine(settings, pool_size=1)
    try:
        async with holder_engine.connect() as holder:
            await holder.execute(select(func.pg_advisory_lock(AUDIT_LOCK_KEY)))
            await holder.commit()  # a session lock: it outlives the transaction
            started = time.monotonic()
            async with asyncio.timeout(2):
                reads = await asyncio.gather(
                    *(
                        client.get(f"{API}/audit", params={"limit": 1}, headers=admin.headers)
                        for _ in range(5)
                    )
                )
                await make_safe_house(client, staff, beds=1)  # writes, and a confidential read
                refused = await client.get(f"{API}/users", headers=caseworker.headers)
            took = time.monotonic() - started
            assert all(r.status_code == 200 for r in reads) and refused.status_code == 403

            ours = AuditEntry.actor_id.in_([admin.id, staff.id, caseworker.id])
            await asyncio.sleep(0.6)  # the sealer, nudged by those commits and ticking, finds the lock taken
            async with resources.sessionmaker() as session:
                waiting = (await session.scalars(select(AuditEntry).where(ours))).all()
            actions = [e.action for e in waiting]
            assert actions.count("read_audit") == 5 and set(actions) == AUDITED_WHILE_LOCKED, actions
            assert all(e.seq is None for e in waiting)  # so the requests did not wait for sealing
            await holder.execute(select(func.pg_advisory_unlock(AUDIT_LOCK_KEY)))
            await holder.commit()
    finally:
        await holder_engine.dispose()
    print(f"\n9 audited requests while the sealer's lock was held took {took:.3f} s")
    entries = await sealed(resources, ours)
    assert {e.id for e in entries} == {e.id for e in waiting}
    report, _ = await whole_chain(resources)
    assert report.intact and report.unsealed == 0, report


async def test_a_sealer_with_another_key_leaves_the_entries_for_one_with_the_right_key(
    settings: Settings, resources: Resources
) -> None:
    """A process started with another PLACEMENT_AUDIT_KEY (or none) must not seal: its hashes
    would break the chain for good. The entries wait for a sealer whose key verifies the head."""
    await sealed_entries(resources, 1)
    marker = uuid.uuid4().hex
    async with unit_of_work(resources.sessionmaker) as session:
        audit.record(session, "test_write", "marker", marker)
    wrong = create_engine(settings, pool_size=1)
    try:
        async with asyncio.timeout(5):
            while True:  # until it gets the lock the app's own sealer may hold for a moment
                async with pooled_driver(wrong) as conn, conn.transaction():
                    with contextlib.suppress(KeyMismatch):
                        outcome = await seal_batch(conn, b"not the chain's key", 100)
                        assert outcome is None, "sealed with another key"  # None: the lock was busy
                        continue
                break
    finally:
        await wrong.dispose()
    [entry] = await sealed(resources, AuditEntry.entity_id == marker)  # the right key seals it
    report, _ = await whole_chain(resources)
    assert entry.seq is not None and report.intact and report.unsealed == 0, report


async def test_a_process_that_recorded_nothing_leaves_the_chain_alone_at_exit(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """E.g. `placement audit verify` only reads: it must not seal others' entries on its way out
    (with another key it would break the chain). Its sealer points at no database, so any attempt shows."""
    nowhere = replace(settings, database_url=f"{settings.database_url}_no_such_database")
    reader = AuditSealer(create_engine(nowhere, pool_size=1), None)
    try:
        await reader.seal_before_exit()
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        reader.nudge()  # had it recorded something, it would have tried
        await reader.seal_before_exit()
        assert any("left unsealed" in r.getMessage() for r in caplog.records)
    finally:
        await reader.close()
