"""Counting the SQL statements a piece of the service sends, for tests that bound them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from placement.core.resources import Resources


@contextmanager
def counted_statements(resources: Resources) -> Iterator[list[str]]:
    """The statements the engine sends while the block runs."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine: Engine = resources.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)
