"""`placement bench api` runs end to end at tiny scale: each scenario beside its floor, and the burst."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from placement.bench.api import api_bench
from placement.core.settings import Settings


def test_api_bench_measures_the_real_app_and_the_floor(server_settings: Settings) -> None:
    assert server_settings.database_url and server_settings.redis_url
    servers = {"DATABASE_URL": server_settings.database_url, "REDIS_URL": server_settings.redis_url}
    args = ["--houses", "5", "--seconds", "1", "--warmup", "0", "--concurrency", "2"]

    result = CliRunner().invoke(api_bench, args, env=servers)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in ("real", "floor"):
        row = next(line for line in lines if line.startswith(name)).split()
        assert int(row[1]) > 0, f"{name} sent no requests"
        assert row[2] == "0", result.output
    assert any(line.startswith("ratio real/floor throughput:") for line in lines)
    assert any(line.startswith("verdict: ") for line in lines)


def test_bench_runs_every_scenario_and_checks_the_burst(server_settings: Settings, tmp_path: Path) -> None:
    assert server_settings.database_url and server_settings.redis_url
    servers = {"DATABASE_URL": server_settings.database_url, "REDIS_URL": server_settings.redis_url}
    figures = tmp_path / "bench.json"
    args = ["--scenario", "all", "--houses", "5", "--seconds", "0.5", "--warmup", "0", "--concurrency", "2"]
    args += ["--burst", "40", "--burst-beds", "2", "--json", str(figures)]

    result = CliRunner().invoke(api_bench, args, env=servers)

    assert result.exit_code == 0, result.output
    scenarios = json.loads(figures.read_text())["scenarios"]
    assert list(scenarios) == ["free-beds", "audited-read", "write", "burst"]
    for name in ("free-beds", "audited-read", "write"):
        for server in ("real", "floor"):
            measured = scenarios[name][server]
            assert measured["requests"] > 0 and measured["errors"] == 0, (name, measured)
    burst = scenarios["burst"]
    assert burst["answered"] + sum(burst["connection_errors"].values()) == 40
    assert burst["statuses"]["201"] == 2, burst
    assert burst["invariants"] == {
        "beds_double_booked": 0,
        "youth_double_booked": 0,
        "live_holds": 2,
        "beds_targeted": 2,
        "hold": True,
    }
    assert "POST /placements burst: 40 requests at once" in result.output
