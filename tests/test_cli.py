"""The `placement` command against a real database: users, audit verification, migrations."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from click.testing import CliRunner

from placement.cli import main
from placement.core import migrate
from placement.core.databases import throwaway_database
from placement.core.settings import Settings, plain_postgres_url


def env_for(settings: Settings) -> dict[str, str]:
    assert settings.database_url and settings.redis_url
    return {"DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url}


@pytest.fixture
def own_database(server_settings: Settings) -> object:
    """A database of this test's own, so it may commit what other tests must never see."""
    with throwaway_database(server_settings, "placement_cli") as settings:
        yield settings


async def sql(settings: Settings, statement: str) -> None:
    assert settings.database_url
    conn = await asyncpg.connect(plain_postgres_url(settings.database_url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def test_db_upgrade_loads_reference_data_and_current_names_the_revision(own_database: Settings) -> None:
    runner = CliRunner()
    upgraded = runner.invoke(main, ["db", "upgrade"], env=env_for(own_database))
    assert upgraded.exit_code == 0, upgraded.output
    assert "512 municipalities, 16 seeded training modules" in upgraded.output
    current = runner.invoke(main, ["db", "current"], env=env_for(own_database))
    assert current.exit_code == 0 and "(head)" in current.output


def test_users_create_makes_a_user_and_refuses_a_weak_password(own_database: Settings) -> None:
    migrate.upgrade(own_database)
    runner = CliRunner()
    args = ["users", "create", "--role", "placement_staff", "--username", "alex.k"]
    weak = runner.invoke(main, [*args, "--password", "short"], env=env_for(own_database))
    assert weak.exit_code != 0 and "password" in weak.output.lower()
    made = runner.invoke(main, [*args, "--password", "a sufficiently long one"], env=env_for(own_database))
    assert made.exit_code == 0, made.output
    assert "created placement_staff alex.k" in made.output


def test_audit_verify_passes_an_intact_chain_and_names_an_edited_entry(own_database: Settings) -> None:
    migrate.upgrade(own_database)
    runner = CliRunner()
    create_users(env_for(own_database), 3)
    intact = runner.invoke(main, ["audit", "verify"], env=env_for(own_database))
    assert intact.exit_code == 0 and "intact: 3 entries" in intact.output
    tamper(own_database, "UPDATE audit_log SET entity_id = 'forged' WHERE seq = 2")
    broken = runner.invoke(main, ["audit", "verify"], env=env_for(own_database))
    assert broken.exit_code == 1
    assert "BROKEN at entry 2" in broken.output


def tamper(settings: Settings, statement: str) -> None:
    """Change the audit log as its owner could, with the append-only triggers switched off."""
    asyncio.run(
        sql(
            settings,
            "ALTER TABLE audit_log DISABLE TRIGGER USER;"
            f"{statement};"
            "ALTER TABLE audit_log ENABLE TRIGGER USER;",
        )
    )


def create_users(env: dict[str, str], count: int) -> None:
    for n in range(count):
        args = [
            "users",
            "create",
            "--role",
            "caseworker",
            "--username",
            f"cw{n}",
            "--password",
            "long enough pass",
        ]
        assert CliRunner().invoke(main, args, env=env).exit_code == 0


def test_a_keyed_chain_verifies_only_with_its_key(own_database: Settings) -> None:
    migrate.upgrade(own_database)
    keyed = {**env_for(own_database), "PLACEMENT_AUDIT_KEY": "a secret kept outside the database"}
    create_users(keyed, 2)
    assert CliRunner().invoke(main, ["audit", "verify"], env=keyed).exit_code == 0
    wrong_key = {**keyed, "PLACEMENT_AUDIT_KEY": "someone else's guess"}
    forged = CliRunner().invoke(main, ["audit", "verify"], env=wrong_key)
    assert forged.exit_code == 1 and "BROKEN at entry 1" in forged.output


def test_an_anchor_shows_entries_cut_off_the_end(own_database: Settings) -> None:
    migrate.upgrade(own_database)
    env = env_for(own_database)
    create_users(env, 3)
    head = CliRunner().invoke(main, ["audit", "verify"], env=env).output.rsplit("head ", 1)[1].strip()
    assert head.startswith("3:")
    tamper(own_database, "DELETE FROM audit_log WHERE seq = 3")
    assert CliRunner().invoke(main, ["audit", "verify"], env=env).exit_code == 0  # a shorter chain fits
    cut = CliRunner().invoke(main, ["audit", "verify", "--anchor", head], env=env)
    assert cut.exit_code == 1 and "anchor" in cut.output
