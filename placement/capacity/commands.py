"""`placement capacity backfill`: daily capacity snapshots rebuilt for days before the cron ran."""

from __future__ import annotations

from datetime import datetime, timedelta

import click


@click.command("backfill")
@click.option(
    "--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day to rebuild."
)
@click.option(
    "--to",
    "last",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day to rebuild (default: the day before the first snapshot the cron took, or yesterday).",
)
def backfill_command(first: datetime, last: datetime | None) -> None:
    """Rebuild the daily snapshots from FIRST on that are missing, from the placements' history.

    What the database keeps no history of (licences, availability, beds out of service, readiness
    rules) is taken as it is now: see `placement.capacity.history`. A day the cron already stored
    is left as it is.
    """
    from placement.capacity.counts import reading_now
    from placement.capacity.history import backfill, first_live_day
    from placement.cli import run, settings_from_env
    from placement.core.resources import Resources
    from placement.core.uow import unit_of_work

    async def rebuild(resources: Resources) -> None:
        zone = resources.settings.zone
        async with unit_of_work(resources.sessionmaker) as session:
            before = await first_live_day(session, zone) or resources.clock().date()
            until = last.date() if last else before - timedelta(days=1)
            if until >= before:  # the cron's day (or a day to come) would be taken by a guess
                raise click.ClickException(f"--to must be before {before}, the first day the cron counted.")
            stored = await backfill(session, first.date(), until, reading_now(resources), zone)
        click.echo(f"stored {stored} snapshot(s) for {first.date()} to {until}")

    run(settings_from_env(), rebuild)


capacity_group = click.Group("capacity", commands={"backfill": backfill_command}, help="Capacity snapshots.")
