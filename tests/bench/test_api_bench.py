"""`placement bench api` runs end to end at tiny scale and reports both servers and their ratio."""

from __future__ import annotations

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
