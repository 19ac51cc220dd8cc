"""How long the bench's audit entries waited for the sealer, read from the chain afterwards."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

MAX_DELAY_MS = 1000.0
SEALING_SQL = """
WITH delays AS (SELECT extract(epoch FROM sealed_at - at) * 1000 AS ms FROM audit_log WHERE seq IS NOT NULL)
SELECT
    (SELECT count(*) FROM delays) AS sealed,
    (SELECT count(*) FROM audit_log WHERE seq IS NULL) AS unsealed,
    coalesce((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM delays), 0) AS p50_ms,
    coalesce((SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FROM delays), 0) AS p99_ms,
    coalesce((SELECT max(ms) FROM delays), 0) AS max_ms
"""


@dataclass(frozen=True, slots=True)
class Sealing:
    """From an entry being recorded (in its request) to its being chained by the sealer."""

    sealed: int
    unsealed: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def passed(self) -> bool:
        return self.max_ms <= MAX_DELAY_MS


async def sealing_delays(dsn: str) -> Sealing:
    """The delays of every entry the bench's servers recorded (its database is its own)."""
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(SEALING_SQL)
    finally:
        await connection.close()
    return Sealing(
        sealed=row["sealed"],
        unsealed=row["unsealed"],
        p50_ms=float(row["p50_ms"]),
        p99_ms=float(row["p99_ms"]),
        max_ms=float(row["max_ms"]),
    )
