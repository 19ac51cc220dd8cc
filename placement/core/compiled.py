"""Statements built with SQLAlchemy and compiled once, run straight through the driver.

For the hottest paths (the free-beds search, audited reads, the audit insert), SQLAlchemy's
per-execution work — building the statement, its cache key, the ORM result — costs more than the
database does. The statement is still written with the models' expressions; it is compiled for
asyncpg once, and run on the session's own connection (`placement.core.db.driver_connection`), in
the session's transaction, or on a connection taken from the pool without a session
(`placement.core.db.pooled_driver`: audited reads, the audit sealer). Values bind by name; asyncpg
prepares and caches the statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import bindparam
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import BindParameter, ClauseElement

DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True)
class Statement:
    """A statement compiled for asyncpg: its SQL, the value behind each `$n`, its own constants."""

    sql: str
    names: tuple[str, ...]
    fixed: dict[str, Any]

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[name] if name in values else self.fixed[name] for name in self.names]

    async def fetch(self, connection: asyncpg.Connection, **values: Any) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await connection.fetch(self.sql, *self.args(values))
        return rows

    async def fetchrow(self, connection: asyncpg.Connection, **values: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await connection.fetchrow(self.sql, *self.args(values))
        return row

    async def one(self, connection: asyncpg.Connection, **values: Any) -> asyncpg.Record:
        """The one row, which the transaction's locks guarantee."""
        row = await self.fetchrow(connection, **values)
        assert row is not None
        return row

    async def fetchval(self, connection: asyncpg.Connection, **values: Any) -> Any:
        return await connection.fetchval(self.sql, *self.args(values))

    async def execute(self, connection: asyncpg.Connection, **values: Any) -> str:
        """Run it; returns the command's tag (`UPDATE 3`)."""
        tag: str = await connection.execute(self.sql, *self.args(values))
        return tag

    async def execute_many(self, connection: asyncpg.Connection, rows: Iterable[Mapping[str, Any]]) -> None:
        await connection.executemany(self.sql, [self.args(values) for values in rows])


def param(name: str) -> BindParameter[Any]:
    """A value bound by name when the statement runs."""
    return bindparam(name, required=False)


def compiled(statement: ClauseElement) -> Statement:
    """Compile a statement as the service's engine would; values bind by name later.

    An IN list of constants becomes one parameter per value, as the engine renders it.
    """
    compiler = statement.compile(dialect=DIALECT, compile_kwargs={"render_postcompile": True})
    assert isinstance(compiler, SQLCompiler)
    return Statement(compiler.string, tuple(compiler.positiontup or ()), dict(compiler.params))


async def fetch_counted_page(
    connection: asyncpg.Connection, page: Statement, count: Statement, values: Mapping[str, Any]
) -> tuple[list[asyncpg.Record], int]:
    """One page of rows that carry `total` (a window count), and that total; past the last page
    (or when nothing matches) there is no row to carry it, so `count` counts without paging."""
    rows = await page.fetch(connection, **values)
    total = rows[0]["total"] if rows else await count.fetchval(connection, **values) or 0
    return rows, int(total)
