"""A writer process for the audit-sealing tests: `python -m tests.core.audit_writers CONFIG_JSON`.

It opens its own `Resources`, optionally runs its own sealer, reports it is ready, waits for a line
on its stdin (so that writers start together), and then in `lanes` concurrent loops does
units of work that each create a user and record audit entries naming it. Some units raise so that
they roll back, some record several entries, some write a refusal at once. After every unit it
appends one JSON line to its report, so whoever reads the report (even after a SIGKILL) knows which
units committed and which rolled back. Every entry carries its marker in `detail`:
run, proc, lane, unit (and step/of for the unit's own entries).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from placement.core import audit
from placement.core.resources import Resources
from placement.core.security.models import User
from placement.core.settings import Settings
from placement.core.uow import unit_of_work

WRITE = "test_write"
REFUSAL = "test_refusal"


@dataclass(frozen=True, kw_only=True)
class WriterConfig:
    """What one writer process does; sent to it as JSON on its command line."""

    database_url: str
    redis_url: str
    audit_key: str | None
    run: str
    proc: int
    report: str
    stop: str
    """The writer stops when this file appears (or after `max_units`)."""
    seal: bool = True
    """Run this process's own sealer (and seal the rest on closing); without it, its entries wait
    for another process's sealer."""
    lanes: int = 2
    max_units: int = 400
    rollback_share: float = 0.5
    refusal_share: float = 0.2
    max_steps: int = 3
    pace: float = 0.0
    """Seconds between a lane's units (0: as fast as it goes)."""
    seed: int = 0

    def to_json(self) -> str:
        return json.dumps(self.__dict__)


def username(run: str, proc: int, unit: int) -> str:
    return f"seal-{run}-{proc}-{unit}"


class RolledBack(Exception):
    """Raised inside a unit of work to make it roll back."""


class Report:
    """One JSON line per event, flushed at once so that a killed writer's report stays readable."""

    def __init__(self, path: str) -> None:
        self._file: TextIO = Path(path).open("a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def write(self, **line: Any) -> None:
        self._file.write(json.dumps(line) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_report(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a writer's report (a killed writer may leave half a line)."""
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


def _exists(path: str) -> bool:
    return Path(path).exists()


class Writer:
    def __init__(self, config: WriterConfig, resources: Resources, report: Report) -> None:
        self.config = config
        self.resources = resources
        self.report = report
        self.actor = audit.Actor(user_id=None, name=f"writer-{config.proc}", role=None)
        self.random = random.Random(config.seed)
        self.next_unit = 0

    async def lane(self, lane: int) -> None:
        while self.next_unit < self.config.max_units and not _exists(self.config.stop):
            unit, self.next_unit = self.next_unit, self.next_unit + 1
            await self.one_unit(lane, unit)
            await asyncio.sleep(self.config.pace)

    async def one_unit(self, lane: int, unit: int) -> None:
        """Create a user and record 1..max_steps entries naming it; maybe refuse, maybe roll back."""
        config, rng = self.config, self.random
        steps = rng.randint(1, config.max_steps)
        fail = rng.random() < config.rollback_share
        fail_before_recording = fail and rng.random() < 0.25
        refuse = rng.random() < config.refusal_share
        user_id: str | None = None
        try:
            async with unit_of_work(self.resources.sessionmaker, self.actor) as session:
                name = username(config.run, config.proc, unit)
                user = User(username=name, display_name=name, role="caseworker", password_hash="x")
                session.add(user)
                await session.flush()
                user_id = str(user.id)
                if refuse:  # autocommitted: it stays whether or not this unit commits
                    await audit.record_at_once(
                        self.resources.engine,
                        self.actor,
                        None,
                        REFUSAL,
                        "user",
                        user.id,
                        outcome="denied",
                        status=403,
                        run=config.run,
                        proc=config.proc,
                        lane=lane,
                        unit=unit,
                    )
                    self.resources.sealer.nudge()
                if fail_before_recording:
                    raise RolledBack
                for step in range(steps):
                    audit.record(
                        session,
                        WRITE,
                        "user",
                        user.id,
                        run=config.run,
                        proc=config.proc,
                        lane=lane,
                        unit=unit,
                        step=step,
                        of=steps,
                    )
                    await asyncio.sleep(rng.uniform(0, 0.002))  # let other lanes and processes in
                if fail:
                    raise RolledBack
        except RolledBack:
            self.report.write(lane=lane, unit=unit, committed=False, refused=refuse, user_id=user_id)
        else:
            self.report.write(
                lane=lane,
                unit=unit,
                committed=True,
                refused=refuse,
                user_id=user_id,
                steps=steps,
                committed_at=time.time(),
            )


async def main(config: WriterConfig) -> None:
    settings = Settings(
        database_url=config.database_url, redis_url=config.redis_url, audit_key=config.audit_key
    )
    resources = await Resources.open(settings)
    report = Report(config.report)
    if config.seal:
        resources.sealer.start()
    try:
        report.write(ready=True)
        await asyncio.to_thread(sys.stdin.readline)  # "go"
        writer = Writer(config, resources, report)
        await asyncio.gather(*(writer.lane(lane) for lane in range(config.lanes)))
    finally:
        if config.seal:
            await resources.close()  # stops the sealer, then seals what is left
        else:  # leave every entry to other processes' sealers
            await resources.redis.aclose()
            await resources.sealer.close()
            await resources.engine.dispose()
    report.write(done=True)
    report.close()


if __name__ == "__main__":
    asyncio.run(main(WriterConfig(**json.loads(sys.argv[1]))))
