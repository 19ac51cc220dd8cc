"""The real service on a port (the tests' app, its lifespan already running) and a real Chromium
driven by Playwright: Debian's `chromium` (Playwright's own download is not reachable here)."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from litestar import Litestar
from playwright.async_api import Browser, async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
async def site(app: Litestar, client: httpx.AsyncClient) -> AsyncIterator[str]:
    """The app served over HTTP on a free port, in the tests' own event loop."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        await launched.close()
