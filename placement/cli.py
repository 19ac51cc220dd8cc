"""The `placement` command: run, migrate, manage users, verify the audit trail, benchmark.

Each command imports what it uses when it runs: `placement --help` and the matcher's commands load
no web framework, database layer or migrations.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import click

from placement.core.security.roles import ROLES

if TYPE_CHECKING:
    from placement.core.resources import Resources
    from placement.core.settings import Settings

Prepare = Callable[["Resources"], Awaitable[None]]


def settings_from_env() -> Settings:
    from placement.core.settings import Settings

    return Settings.from_env()


async def _with_resources(settings: Settings, work: Prepare) -> None:
    from placement.core.resources import Resources

    resources = await Resources.open(settings)
    try:
        await work(resources)
    finally:
        await resources.close()


def run(settings: Settings, work: Prepare) -> None:
    import asyncio

    asyncio.run(_with_resources(settings, work))


async def load_reference(resources: Resources) -> None:
    from caregivers.training.catalog import load_training_catalog
    from placement.core.uow import unit_of_work
    from placement.reference.loader import load_reference_data

    async with unit_of_work(resources.sessionmaker) as session:
        count = await load_reference_data(session)
        modules = await load_training_catalog(session)
    click.echo(f"reference data: {count} municipalities, {modules} seeded training modules")


def prepare_database(settings: Settings) -> None:
    """Migrate to head and (re)load the reference geography and the training catalog."""
    from placement.core import migrate

    migrate.upgrade(settings)
    run(settings, load_reference)


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    workers: int,
    worker: bool,
    migrate_first: bool,
    before: Prepare | None,
) -> None:
    """Serve the API from one process, or from `workers` processes beside one arq worker process."""
    from placement.core.embedded import embedded_servers
    from placement.serving import serve_in_process, serve_processes

    with embedded_servers(settings) as ready:
        if migrate_first or ready is not settings:
            prepare_database(ready)
        if before is not None:
            run(ready, before)
        click.echo(f"serving on http://{host}:{port}  (API under /api/v1, docs at /schema)")
        if workers == 1:
            serve_in_process(dataclasses.replace(ready, run_worker_inline=worker), host, port)
        else:
            serve_processes(ready, host, port, workers=workers, worker=worker)


class LazyGroup(click.Group):
    """A group whose named subcommands are imported only when looked up: the API processes that
    uvicorn spawns re-import this module, and need neither the benches nor the matcher; the
    matcher's module defines its commands without importing the engine, so listing it is cheap."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, _, name = self.lazy[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        return command


OFFLINE = {"match"}
"""Commands that run no part of the service, and log nothing: the matcher's, on saved files."""


@click.group(
    cls=LazyGroup,
    lazy={
        "match": "placement.matches.commands:match_group",
        "capacity": "placement.capacity.commands:capacity_group",
        "web": "placement.web.commands:web_group",
    },
)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Safe-house placement and caregiver support."""
    if ctx.invoked_subcommand not in OFFLINE:
        from placement.core.logs import configure_logging

        configure_logging(settings_from_env().log_format)


host_option = click.option("--host", default="127.0.0.1", show_default=True)
port_option = click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
workers_option = click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="API processes (uvicorn's); above 1 the arq worker runs as one process of its own.",
)


@main.command("serve")
@host_option
@port_option
@workers_option
@click.option("--worker/--no-worker", default=True, show_default=True, help="Run the arq worker too.")
@click.option("--migrate/--no-migrate", default=True, show_default=True, help="Migrate before serving.")
def serve_command(host: str, port: int, workers: int, worker: bool, migrate: bool) -> None:
    """Run the API (embedded PostgreSQL and Redis when DATABASE_URL/REDIS_URL are unset)."""
    settings = settings_from_env()
    serve(settings, host, port, workers=workers, worker=worker, migrate_first=migrate, before=None)


@main.command("demo")
@host_option
@port_option
@workers_option
@click.option(
    "--allow-external-database",
    is_flag=True,
    help="Load the demo into DATABASE_URL's database (its users get published passwords).",
)
def demo_command(host: str, port: int, workers: int, allow_external_database: bool) -> None:
    """Load realistic demo data, print the demo sign-ins, and run the API with its worker."""
    from placement.demo import load_demo

    settings = settings_from_env()
    if settings.database_url and not allow_external_database:
        raise click.UsageError(
            "DATABASE_URL is set: the demo creates users whose passwords are published. Unset it to "
            "use the embedded server, or pass --allow-external-database if this database is a demo."
        )
    serve(settings, host, port, workers=workers, worker=True, migrate_first=True, before=load_demo)


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
    """Migrate up (to head by default) and load the reference geography and the training catalog."""
    from placement.core import migrate

    settings = settings_from_env()
    migrate.upgrade(settings, revision)
    if revision == "head":
        run(settings, load_reference)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate down to REVISION (`base` empties the database)."""
    from placement.core import migrate

    migrate.downgrade(settings_from_env(), revision)


@db.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    from placement.core import migrate

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
    import msgspec

    from placement.core.security.schemas import UserCreate
    from placement.core.security.service import create_user
    from placement.core.uow import unit_of_work

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
    """Walk the sealed hash chain; exit 1 naming the first entry that does not fit.

    Entries committed in the last moment may still wait for the sealer: their count is printed.

    Prints the chain's head (SEQ:HASH): keep it outside the database and pass it as --anchor
    next time, so that entries removed from the end show too.
    """

    from placement.core.audit import anchor_holds, verify_chain

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
        waiting = f"; {report.unsealed} more wait to be sealed" if report.unsealed else ""
        click.echo(f"audit chain intact: {report.checked} entries; head {report.head}{waiting}")

    run(settings_from_env(), verify)


@main.group(
    "bench",
    cls=LazyGroup,
    lazy={
        "api": "placement.bench.api:api_bench",
        "capacity": "placement.bench.capacity.command:capacity_bench",
        "households": "placement.bench.households:households_bench",
        "match": "placement.bench.match:match_bench",
        "pages": "placement.bench.pages:pages_bench",
        "service": "placement.bench.service:service_bench",
    },
)
def bench() -> None:
    """Benchmarks, each against a baseline measured in the same run."""


if __name__ == "__main__":
    main()
