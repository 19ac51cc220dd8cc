"""The burst: thousands of holds at once for a few free beds, then the invariants, checked directly.

Each request is for a different awaiting youth, on a connection of its own, all sent at the same
moment to the real service (no floor: the question is how it fails, not how fast). It passes with
no server error but 503 (load shed, with Retry-After), no broken connection, and the database as
the partial unique indexes promise: no bed and no youth with two live placements, and no more live
holds than beds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

import asyncpg

from placement.bench.data import BenchData
from placement.bench.load import Outcome, Target, burst, percentile_ms, succeeded
from placement.bench.scenarios import hold_body
from placement.placements.models import LIVE

SHED = 503
INVARIANTS_SQL = f"""
WITH live AS (SELECT bed_id, youth_id FROM placements WHERE {LIVE})
SELECT
    (SELECT count(*) FROM (SELECT FROM live GROUP BY bed_id HAVING count(*) > 1) AS twice)
        AS beds_double_booked,
    (SELECT count(*) FROM (SELECT FROM live GROUP BY youth_id HAVING count(*) > 1) AS twice)
        AS youth_double_booked,
    (SELECT count(*) FROM live WHERE youth_id = ANY($1::uuid[])) AS live_holds
"""  # noqa: S608 - constants only; the youth ids are bound


@dataclass(frozen=True, slots=True)
class Invariants:
    beds_double_booked: int
    youth_double_booked: int
    live_holds: int  # live placements of the burst's youth
    beds_targeted: int

    @property
    def hold(self) -> bool:
        no_double_booking = self.beds_double_booked == self.youth_double_booked == 0
        return no_double_booking and self.live_holds <= self.beds_targeted


async def check_invariants(dsn: str, youth: list[uuid.UUID], beds: int) -> Invariants:
    """Read the invariants straight from the database, past the service."""
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(INVARIANTS_SQL, youth)
    finally:
        await connection.close()
    return Invariants(**dict(row), beds_targeted=beds)


@dataclass(frozen=True, slots=True)
class BurstResult:
    requests: int
    beds: int
    answered: int
    throughput: float  # answers a second, until the last one
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[int, int]
    details: dict[int, str]  # the most common detail of each status that is not a success
    connection_errors: dict[str, int]  # by kind: dropped, reset, timeout, refused, connect ...
    invariants: Invariants

    @property
    def server_errors(self) -> int:
        """Answers 5xx other than 503, the load shed on purpose."""
        return sum(count for status, count in self.statuses.items() if status >= 500 and status != SHED)

    @property
    def passed(self) -> bool:
        return not self.server_errors and not self.connection_errors and self.invariants.hold

    def as_json(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self)
        fields["invariants"]["hold"] = self.invariants.hold
        return {**fields, "server_errors": self.server_errors, "passed": self.passed}


def burst_result(outcomes: list[Outcome], beds: int, invariants: Invariants) -> BurstResult:
    """Statuses, latencies and broken connections of the burst's requests."""
    answered = [outcome for outcome in outcomes if outcome.broken is None]
    ordered = sorted(outcome.seconds for outcome in answered)
    details: dict[int, Counter[str]] = {}
    for outcome in answered:
        if not succeeded(outcome.status):
            details.setdefault(outcome.status, Counter())[outcome.detail] += 1
    return BurstResult(
        requests=len(outcomes),
        beds=beds,
        answered=len(answered),
        throughput=len(answered) / ordered[-1] if ordered and ordered[-1] > 0 else 0.0,
        p50_ms=percentile_ms(ordered, 50),
        p99_ms=percentile_ms(ordered, 99),
        max_ms=percentile_ms(ordered, 100),
        statuses=dict(sorted(Counter(outcome.status for outcome in answered).items())),
        details={status: text.most_common(1)[0][0] for status, text in sorted(details.items())},
        connection_errors=dict(
            Counter(outcome.broken for outcome in outcomes if outcome.broken).most_common()
        ),
        invariants=invariants,
    )


def run_burst(runner: asyncio.Runner, real: Target, data: BenchData, dsn: str) -> BurstResult:
    """Warm the service's sign-in cache with one request, send the burst, then check the database."""
    runner.run(burst(real.port, [real.request("GET", "/beds/available?limit=1")]))
    requests = [real.request("POST", "/placements", hold_body(lane)) for lane in data.burst_lanes]
    outcomes = runner.run(burst(real.port, requests))
    youth = [lane.youth_id for lane in data.burst_lanes]
    invariants = runner.run(check_invariants(dsn, youth, len(data.burst_beds)))
    return burst_result(outcomes, len(data.burst_beds), invariants)
