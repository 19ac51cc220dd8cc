"""The `placement` command: run, migrate, manage users, verify the audit trail, benchmark."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sys
from collections.abc import Awaitable, Callable

import click
import msgspec
import uvicorn

from placement.bench.api import api_bench
from placement.bench.match import match_bench
from placement.core import migrate
from placement.core.audit import anchor_holds, verify_chain
from placement.core.embedded import embedded_servers
from placement.core.resources import Resources
from placement.core.security.models import ROLES
from placement.core.security.schemas import UserCreate
from placement.core.security.service import create_user
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from placement.matching.cli import match_group
from placement.reference.loader import load_reference_data

Prepare = Callable[[Resources], Awaitable[None]]


def settings_from_env() -> Settings:
    return Settings.from_env()


async def _with_resources(settings: Settings, work: Prepare) -> None:
    resources = await Resources.open(settings)
    try:
        await work(resources)
    finally:
        await resources.close()


def run(settings: Settings, work: Prepare) -> None:
    asyncio.run(_with_resources(settings, work))


async def load_reference(resources: Resources) -> None:
    async with unit_of_work(resources.sessionmaker) as session:
        count = await load_reference_data(session)
    click.echo(f"reference data: {count} municipalities")


def prepare_database(settings: Settings) -> None:
    """Migrate to head and (re)load the reference geography."""
    migrate.upgrade(settings)
    run(settings, load_reference)


def serve(
    settings: Settings, host: str, port: int, *, worker: bool, migrate_first: bool, before: Prepare | None
) -> None:
    with embedded_servers(settings) as ready:
        if migrate_first or ready is not settings:
            prepare_database(ready)
        if before is not None:
            run(ready, before)
        from placement.app import create_app

        app = create_app(dataclasses.replace(ready, run_worker_inline=worker))
        click.echo(f"serving on http://{host}:{port}  (API under /api/v1, docs at /schema)")
        # No access log: query strings can carry a youth's origin (near=LAT,LON). Requests are
        # traced by their X-Request-ID in the audit trail instead.
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, access_log=False)


@click.group()
def main() -> None:
    """Safe-house placement and caregiver support."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


host_option = click.option("--host", default="127.0.0.1", show_default=True)
port_option = click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))


@main.command("serve")
@host_option
@port_option
@click.option(
    "--worker/--no-worker", default=True, show_default=True, help="Run the arq worker in this process."
)
@click.option("--migrate/--no-migrate", default=True, show_default=True, help="Migrate before serving.")
def serve_command(host: str, port: int, worker: bool, migrate: bool) -> None:
    """Run the API (embedded PostgreSQL and Redis when DATABASE_URL/REDIS_URL are unset)."""
    serve(settings_from_env(), host, port, worker=worker, migrate_first=migrate, before=None)


@main.command("demo")
@host_option
@port_option
@click.option(
    "--allow-external-database",
    is_flag=True,
    help="Load the demo into DATABASE_URL's database (its users get published passwords).",
)
def demo_command(host: str, port: int, allow_external_database: bool) -> None:
    """Load realistic demo data, print the demo sign-ins, and run the API with its worker."""
    from placement.demo import load_demo

    settings = settings_from_env()
    if settings.database_url and not allow_external_database:
        raise click.UsageError(
            "DATABASE_URL is set: the demo creates users whose passwords are published. Unset it to "
            "use the embedded server, or pass --allow-external-database if this database is a demo."
        )
    serve(settings, host, port, worker=True, migrate_first=True, before=load_demo)


@main.command("worker")
def worker_command() -> None:
    """Run the arq worker (jobs and cron) against REDIS_URL and DATABASE_URL."""
    from arq.worker import Worker

    from placement.worker import worker_settings

    settings = settings_from_env()
    worker = Worker(**{**worker_settings(settings), "handle_signals": True})
    worker.run()


@main.group("db")
def db() -> None:
    """Schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate up (to head by default) and load the reference geography."""
    settings = settings_from_env()
    migrate.upgrade(settings, revision)
    if revision == "head":
        run(settings, load_reference)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate down to REVISION (`base` empties the database)."""
    migrate.downgrade(settings_from_env(), revision)


@db.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    migrate.current(settings_from_env())


@main.group("users")
def users() -> None:
    """User accounts."""


@users.command("create")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--username", required=True)
@click.option("--display-name", default=None)
@click.password_option(help="At least 12 characters; prompted for if not given.")
def users_create(role: str, username: str, display_name: str | None, password: str) -> None:
    """Create a user with a role."""
    fields = {
        "username": username,
        "display_name": display_name or username,
        "role": role,
        "password": password,
    }
    try:
        data = msgspec.convert(fields, UserCreate)
    except msgspec.ValidationError as invalid:
        raise click.BadParameter(str(invalid)) from None

    async def create(resources: Resources) -> None:
        async with unit_of_work(resources.sessionmaker) as session:
            user = await create_user(session, data)
        click.echo(f"created {user.role} {user.username} ({user.id})")

    run(settings_from_env(), create)


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
@click.option("--anchor", help="SEQ:HASH printed by an earlier verify: fail if it is gone (cut off).")
def audit_verify(anchor: str | None) -> None:
    """Walk the hash chain; exit 1 naming the first entry that does not fit.

    Prints the chain's head (SEQ:HASH): keep it outside the database and pass it as --anchor
    next time, so that entries removed from the end show too.
    """

    async def verify(resources: Resources) -> None:
        async with resources.sessionmaker() as session:
            report = await verify_chain(session)
            try:
                anchored = anchor is None or await anchor_holds(session, anchor)
            except ValueError as bad:
                raise click.BadParameter(str(bad), param_hint="--anchor") from None
        if not report.intact:
            click.echo(f"audit chain BROKEN at entry {report.first_bad_seq}: {report.reason}", err=True)
            sys.exit(1)
        if not anchored:
            click.echo(f"audit chain BROKEN: the anchor {anchor} is not in it (entries removed?)", err=True)
            sys.exit(1)
        click.echo(f"audit chain intact: {report.checked} entries; head {report.head}")

    run(settings_from_env(), verify)


@main.group("bench")
def bench() -> None:
    """Benchmarks, each against a baseline measured in the same run."""


bench.add_command(api_bench)
bench.add_command(match_bench)
main.add_command(match_group)


if __name__ == "__main__":
    main()
