"""`placement match`: the engine's offline commands, and `export`, which writes the instance a
stored request or batch solved so that they reproduce its answer."""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from placement.matching.cli import match_group as engine_commands


@click.command("export")
@click.argument("solved_id", type=click.UUID)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write JSON here.")
def export_command(solved_id: uuid.UUID, out: Path | None) -> None:
    """Write the instance match request (or batch) SOLVED_ID solved, in the engine's JSON format.

    `placement match solve` on it gives the stored answer (a request: `--limit` as recorded in its
    `engine` field). The instance holds confidential positions and safety plans: the export is
    audited, and the file must be kept as carefully as the database.
    """
    from placement.cli import run, settings_from_env
    from placement.core.errors import NotFound
    from placement.core.resources import Resources
    from placement.core.uow import unit_of_work
    from placement.matches.export import exported_instance

    exported: list[bytes] = []

    async def export(resources: Resources) -> None:
        try:
            async with unit_of_work(resources.sessionmaker) as session:
                exported.append(await exported_instance(session, solved_id))
        except NotFound as missing:
            raise click.ClickException(missing.detail) from None

    run(settings_from_env(), export)
    if out is None:
        click.echo(exported[0].decode(), nl=False)
    else:
        out.write_bytes(exported[0])
        click.echo(f"wrote {out}", err=True)


match_group = click.Group(
    "match", commands={**engine_commands.commands, "export": export_command}, help=engine_commands.help
)
