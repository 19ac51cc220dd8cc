"""`placement bench households` runs end to end at tiny scale, each read beside its asyncpg baseline."""

from __future__ import annotations

import json

from click.testing import CliRunner

from placement.bench.households import households_bench
from placement.core.settings import Settings


def test_households_bench_times_each_read_beside_asyncpg(server_settings: Settings) -> None:
    assert server_settings.database_url and server_settings.redis_url
    servers = {"DATABASE_URL": server_settings.database_url, "REDIS_URL": server_settings.redis_url}

    result = CliRunner().invoke(
        households_bench, ["--households", "120", "--runs", "2", "--json"], env=servers
    )

    assert result.exit_code == 0, result.output
    timings = json.loads(result.output[result.output.index("[") :])
    page, exact, banded = timings
    assert page["rows"] == 100 and page["statements"] == 2
    assert exact["rows"] > 0 and exact["statements"] == banded["statements"] == 1
    assert banded["rows"] == exact["rows"]
    assert all(t["service_p50_ms"] > 0 and t["asyncpg_p50_ms"] > 0 for t in timings)
