"""`placement bench service` runs end to end at tiny scale: requests through the API and its
inline worker beside the in-process floor, a batch with its peak memory, and free beds meanwhile."""

from __future__ import annotations

import json

from click.testing import CliRunner

from placement.bench.service import service_bench
from placement.core.settings import Settings


def test_service_bench_answers_requests_and_solves_a_batch(server_settings: Settings) -> None:
    assert server_settings.database_url and server_settings.redis_url
    servers = {"DATABASE_URL": server_settings.database_url, "REDIS_URL": server_settings.redis_url}
    db = server_settings.redis_url.rsplit("/", 1)[1].split("?")[0]
    args = ["--beds", "40", "--households", "160", "--youth", "12", "--requests", "4", "--warmup", "1"]
    args += ["--caseworkers", "3", "--free-beds-seconds", "0.3", "--clients", "1", "--redis-db", db, "--json"]

    result = CliRunner().invoke(service_bench, args, env=servers)

    assert result.exit_code == 0, result.output
    figures = json.loads(result.output[result.output.index("{") :])
    assert figures["targets"] == 200 and figures["youth"] == 12
    assert figures["requests"]["count"] == 4 and figures["requests"]["p50_ms"] > 0
    assert figures["floor_load"]["count"] == figures["floor_total"]["count"] == 4
    batch = figures["batch"]
    assert batch["status"] == "solved" and batch["requests"] == 12, batch
    assert batch["peak_rss_bytes"] > 0 and len(batch["peak_rss_by_process"]) >= 2, batch
    assert figures["free_beds_at_rest"]["count"] > 0
    assert set(figures["verdicts"]) == {
        "request p50",
        "request p99",
        "batch time",
        "batch peak RSS",
        "free beds p99 ratio",
    }
