"""`placement bench pages` runs end to end: each demo user's main page beside its API read."""

from __future__ import annotations

import json

from click.testing import CliRunner

from placement.bench.pages import PAGES, pages_bench
from placement.core.settings import Settings


def test_pages_bench_times_each_roles_main_page_beside_its_api_read(server_settings: Settings) -> None:
    assert server_settings.database_url and server_settings.redis_url
    servers = {"DATABASE_URL": server_settings.database_url, "REDIS_URL": server_settings.redis_url}

    result = CliRunner().invoke(pages_bench, ["--runs", "2", "--json"], env=servers)

    assert result.exit_code == 0, result.output
    figures = json.loads(result.output[result.output.index("[\n") :])
    assert [(f["username"], f["page"], f["status"]) for f in figures] == [
        (p.username, p.page, 200) for p in PAGES
    ]
    assert all(f["page_p50_ms"] > 0 and f["api_p50_ms"] > 0 for f in figures)
