"""`placement web`: the pages from the command line. `screenshots DIR` photographs each demo
role's main page at desktop and phone widths, for reviews and the README.

Without `--url` it serves the demo itself: on the embedded servers (the demo's data folder), or on
the configured ones in a throw-away database made for the run and dropped after it, so no real
database ever gets the demo's published passwords.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from placement.core.settings import Settings

WIDTHS = {"desktop": (1280, 800), "phone": (360, 740)}


def demo_sign_ins() -> list[tuple[str, str, str]]:
    """(username, password, role): the first demo user of each role."""
    from placement.demo import DEMO_USERS, demo_password

    first: dict[str, str] = {}
    for username, _, role in DEMO_USERS:
        first.setdefault(role, username)
    return [(username, demo_password(username), role) for role, username in first.items()]


async def photograph(url: str, directory: Path, chromium: str) -> list[Path]:
    """Each demo role's main page (the first its navigation links to; home if none) at each
    width, as `<role>-<width>.png` in `directory`."""
    from playwright.async_api import async_playwright

    saved = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            for username, password, role in demo_sign_ins():
                context = await browser.new_context()
                page = await context.new_page()
                await page.goto(f"{url}/sign-in")
                await page.get_by_label("Username").fill(username)
                await page.get_by_label("Password").fill(password)
                await page.get_by_role("button", name="Sign in").click()
                await page.wait_for_url(f"{url}/")
                links = page.get_by_role("navigation", name="Main").get_by_role("link")
                path = (await links.first.get_attribute("href") or "/") if await links.count() else "/"
                for name, (width, height) in WIDTHS.items():
                    await page.set_viewport_size({"width": width, "height": height})
                    await page.goto(f"{url}{path}")
                    target = directory / f"{role}-{name}.png"
                    await page.screenshot(path=target)
                    saved.append(target)
                    click.echo(f"{target}  ({username} on {path}, {width}x{height})")
                await context.close()
        finally:
            await browser.close()
    return saved


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve_and_photograph(settings: Settings, directory: Path, chromium: str) -> None:
    """The app (no worker: nothing is solved while photographing) on a free local port."""
    import uvicorn

    from placement.app import create_app

    app = create_app(dataclasses.replace(settings, run_worker_inline=False))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()  # it failed to start: say why
                raise click.ClickException("the service stopped before it started serving")
            await asyncio.sleep(0.05)
        await photograph(f"http://127.0.0.1:{port}", directory, chromium)
    finally:
        server.should_exit = True
        await serving


@contextlib.contextmanager
def demo_database(settings: Settings) -> Iterator[Settings]:
    """Servers with the demo loaded: embedded ones (the demo's own folder), or a throw-away
    database on the configured server."""
    from placement.cli import prepare_database, run
    from placement.core.databases import throwaway_database
    from placement.core.embedded import embedded_servers
    from placement.demo import load_demo

    configured = settings.database_url is not None
    with embedded_servers(settings) as ready:
        own = throwaway_database(ready, "placement_screenshots") if configured else None
        with own or contextlib.nullcontext(ready) as target:
            prepare_database(target)
            run(target, load_demo)
            yield target


@click.group("web")
def web_group() -> None:
    """The server-rendered pages."""


@web_group.command("screenshots")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--url", help="Photograph this running demo (`placement demo`) instead of starting one.")
@click.option(
    "--chromium",
    default=lambda: shutil.which("chromium") or "/usr/bin/chromium",
    show_default="chromium on PATH",
    help="The Chromium to drive.",
)
def screenshots(directory: Path, url: str | None, chromium: str) -> None:
    """Save each demo role's main page at desktop (1280x800) and phone (360x740) widths as PNGs.

    Needs Playwright (in the test extras: `pip install -e '.[test]'`) and a Chromium.
    """
    if importlib.util.find_spec("playwright") is None:
        raise click.ClickException("Playwright is not installed: pip install -e '.[test]'")
    directory.mkdir(parents=True, exist_ok=True)
    if url is not None:
        asyncio.run(photograph(url.rstrip("/"), directory, chromium))
        return
    from placement.cli import settings_from_env

    with demo_database(settings_from_env()) as settings:
        asyncio.run(serve_and_photograph(settings, directory, chromium))
