"""`placement bench pages`: each role's main page at the demo's scale, beside the API read of the
same data, in one run.

A throw-away database gets the demo (`placement demo`'s data); the app runs in process (its
lifespan, its worker off) and an HTTP client signs in through the sign-in page as each demo user.
Each page is fetched N times, and so is the JSON the page is built from, as that role would ask for
it: the difference is what rendering the page costs.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace

import click
import httpx
from litestar import Litestar

from placement.app import create_app
from placement.bench.api import bench_database, client_loop_factory
from placement.cli import load_reference
from placement.core.resources import Resources
from placement.core.settings import Settings
from placement.demo import demo_password, load_demo

BASE = "http://bench.local"


@dataclass(frozen=True, slots=True)
class RolePage:
    username: str
    page: str
    api: str
    """The API read the page shows (the baseline)."""


PAGES = (
    RolePage("staff", "/board", "/api/v1/beds/available?limit=200"),
    RolePage("caregiver", "/family", "/api/v1/me/notifications"),
    RolePage("caseworker", "/casework", "/api/v1/youth?limit=25"),
    RolePage("lead", "/capacity-dashboard", "/api/v1/capacity?by=region"),
    RolePage("admin", "/users", "/api/v1/users"),
)


@dataclass(frozen=True, slots=True)
class PageTiming:
    username: str
    page: str
    status: int
    page_p50_ms: float
    page_p99_ms: float
    api: str
    api_p50_ms: float


async def timed(runs: int, call: Callable[[], Awaitable[httpx.Response]]) -> tuple[list[float], int]:
    seconds, status = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        answer = await call()
        seconds.append(time.perf_counter() - started)
        status = answer.status_code
    return seconds, status


async def signed_in(client: httpx.AsyncClient, username: str) -> str:
    """Sign in through the page (the cookie stays in the client); returns a bearer token too."""
    await client.get("/sign-in")
    password = demo_password(username)
    form = {"username": username, "password": password, "_csrf_token": client.cookies["csrftoken"]}
    answer = await client.post("/sign-in", data=form)
    if answer.url.path == "/sign-in":
        raise click.ClickException(f"{username} could not sign in: {answer.status_code}")
    login = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return str(login.json()["access_token"])


async def measure_role(app: Litestar, role: RolePage, runs: int) -> PageTiming:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=BASE, follow_redirects=True) as client:
        bearer = {"Authorization": f"Bearer {await signed_in(client, role.username)}"}
        await client.get(role.page)  # warm: templates compiled, statements prepared
        pages, status = await timed(runs, lambda: client.get(role.page))
        reads, api_status = await timed(runs, lambda: client.get(role.api, headers=bearer))
    if api_status != 200:
        raise click.ClickException(f"{role.username}: {role.api} answered {api_status}")
    return PageTiming(
        username=role.username,
        page=role.page,
        status=status,
        page_p50_ms=round(statistics.median(pages) * 1000, 1),
        page_p99_ms=round(statistics.quantiles(pages, n=100)[98] * 1000, 1),
        api=role.api,
        api_p50_ms=round(statistics.median(reads) * 1000, 1),
    )


async def measure(settings: Settings, runs: int) -> list[PageTiming]:
    app = create_app(replace(settings, run_worker_inline=False))
    async with app.lifespan():
        resources: Resources = app.state.resources
        await load_reference(resources)
        await load_demo(resources)
        return [await measure_role(app, role, runs) for role in PAGES]


def report(timings: list[PageTiming], runs: int) -> str:
    lines = [
        f"each page {runs} times in process, demo data; the API read beside it",
        f"{'user':<11} {'page':<20} {'status':>6} {'p50 ms':>8} {'p99 ms':>8}   "
        f"{'API read':<36} {'p50 ms':>7}",
    ]
    for t in timings:
        lines.append(
            f"{t.username:<11} {t.page:<20} {t.status:>6} {t.page_p50_ms:>8} {t.page_p99_ms:>8}   "
            f"{t.api:<36} {t.api_p50_ms:>7}"
        )
    slowest = max(t.page_p50_ms for t in timings)
    lines.append(f"slowest page p50 {slowest} ms (target < 100) {'PASS' if slowest < 100 else 'MISS'}")
    return "\n".join(lines)


@click.command("pages")
@click.option("--runs", default=50, show_default=True, type=click.IntRange(2, 10_000))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def pages_bench(runs: int, as_json: bool) -> None:
    """Each role's main page at the demo's scale, beside the API read it shows."""
    settings = Settings.from_env()
    with asyncio.Runner(loop_factory=client_loop_factory()) as runner, bench_database(settings, runner) as db:
        timings = runner.run(measure(db, runs))
    click.echo(json.dumps([asdict(t) for t in timings], indent=2) if as_json else report(timings, runs))
