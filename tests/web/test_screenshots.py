"""`placement web screenshots DIR` serves the demo in a throw-away database on the tests' server and
saves each demo role's main page at desktop and phone widths."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from placement.core.settings import Settings
from tests.web.conftest import CHROMIUM

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
async def test_the_screenshots_command_saves_each_roles_main_page_at_both_widths(
    server_settings: Settings, settings: Settings, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": str(server_settings.database_url),
        "REDIS_URL": str(settings.redis_url),
        "PLACEMENT_DATA_DIR": str(tmp_path / "data"),
    }
    command = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "placement.cli", "web", "screenshots", str(tmp_path / "shots"),
        "--chromium", CHROMIUM,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(command.communicate(), timeout=120)
    assert command.returncode == 0, output.decode()

    shots = {p.name: p.read_bytes() for p in (tmp_path / "shots").iterdir()}
    roles = ("admin", "placement_staff", "caseworker", "program_lead", "caregiver")
    assert set(shots) == {f"{role}-{width}.png" for role in roles for width in ("desktop", "phone")}
    assert all(png.startswith(PNG) and len(png) > 5_000 for png in shots.values())
    assert b"admin on /users" in output and b"staff on /board" in output
