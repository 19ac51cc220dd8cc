"""`placement bench capacity` runs end to end at tiny scale: the capacity reads through the app
beside their replayed statements, the backfill, and a what-if beside its floor."""

from __future__ import annotations

import json

from click.testing import CliRunner

from placement.bench.capacity.command import capacity_bench
from placement.core.settings import Settings


def test_capacity_bench_reads_backfills_and_answers_a_what_if(server_settings: Settings) -> None:
    assert server_settings.database_url and server_settings.redis_url
    servers = {"DATABASE_URL": server_settings.database_url, "REDIS_URL": server_settings.redis_url}
    db = server_settings.redis_url.rsplit("/", 1)[1].split("?")[0]
    args = ["--scale", "1", "--runs", "2", "--days", "2", "--beds", "20", "--households", "80"]
    args += ["--youth", "8", "--new-beds", "2", "--redis-db", db, "--json"]

    result = CliRunner().invoke(capacity_bench, args, env=servers)

    assert result.exit_code == 0, result.output
    table, figures = result.output.rstrip().rsplit("\n", 1)
    for title in (
        "each read 2 times through the real service",
        "GET /capacity?by=county",
        "backfill of 2 days (in process)",
        "GET /capacity/history?by=county, 2 days",
        "what-if: Northern's homes trained for trafficking_specialized and 2 new beds in Worcester",
    ):
        assert title in table, table
    (demo,) = json.loads(figures)["scales"]
    assert demo["scale"] == 1 and demo["houses"] == 12 and demo["households"] == 300
    now, history = demo["now"], demo["history"]
    assert now["rows"] == 15 and now["statements"] > 0 and now["slowest"]["p50_ms"] > 0  # 14 counties
    assert demo["backfill"]["stored"] == 6 and demo["backfill"]["statements"] > 0
    assert history["rows"] == 2 * 15 and history["statements"] > 0
    assert now["service"]["count"] == now["asyncpg"]["count"] == 2
    what_if = json.loads(figures)["what_if"]
    for trial in (what_if["first"], what_if["again"]):
        assert trial["status"] == "answered" and trial["beds_added"] == 2, trial
        assert trial["ask_statements"] > 0 and trial["job_statements"] > 0, trial
        assert trial["peak_rss_bytes"] > 0 and len(trial["peak_rss_by_process"]) >= 2, trial
        assert trial["placed_before"] is not None and trial["placed_after"] is not None
    floor = what_if["floor"]
    assert floor["load_statements"] > 0 and floor["awaiting"] == what_if["first"]["awaiting"]
