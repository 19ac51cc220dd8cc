"""Log lines: the request id on every record, database errors told without the values they echo,
and (with `PLACEMENT_LOG_FORMAT=json`) one JSON object a line.

A database error's message can quote what was sent ("invalid input for query argument $1: '12 Elm
Street'", "DETAIL: Key (name)=(...) already exists"): its message, and those of the exceptions
beneath it, are withheld from log lines; its type, SQLSTATE and constraint are kept.
"""

from __future__ import annotations

import json
import logging
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import asyncpg
from sqlalchemy.exc import StatementError

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REQUEST_ID: ContextVar[str | None] = ContextVar("placement_request_id", default=None)
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    StatementError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def withheld(exc: BaseException) -> str:
    """A database error without its message: type, SQLSTATE and constraint only."""
    known = [
        f"{name} {value}"
        for name in ("sqlstate", "constraint_name")
        if (value := getattr(exc, name, None) or getattr(getattr(exc, "orig", None), name, None))
    ]
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return f"{name} (message withheld{'; ' if known else ''}{'; '.join(known)})"


def safe_traceback(exc: BaseException) -> str:
    """The traceback as Python prints it, with database errors (and their causes) told by `withheld`."""
    chain: list[tuple[BaseException, str]] = []  # newest first, each with what follows it in print
    seen: set[int] = set()
    current: BaseException | None = exc
    follows = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, follows))
        if current.__cause__ is not None:
            current, follows = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, follows = current.__context__, _CONTEXT
        else:
            current = None
    blocks: list[str] = []  # oldest first, as Python prints them
    hiding = False
    for error, follows in chain:
        hiding = hiding or isinstance(error, DATABASE_ERRORS)
        header = withheld(error) if hiding else _header(error)
        frames = "".join(traceback.format_tb(error.__traceback__))
        blocks.insert(0, f"Traceback (most recent call last):\n{frames}{header}\n{follows}")
    return "".join(blocks).rstrip("\n")


def _header(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).rstrip("\n")


class LogContext(logging.Filter):
    """On a handler: adds the current request's id and withholds database errors' messages."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        if isinstance(record.msg, DATABASE_ERRORS):
            record.msg = withheld(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(withheld(a) if isinstance(a, DATABASE_ERRORS) else a for a in record.args)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = safe_traceback(record.exc_info[1])
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: at, level, logger, message, and request_id, exc_type, exc if any."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            line["request_id"] = request_id
        if record.exc_info and record.exc_info[1] is not None:
            line["exc_type"] = type(record.exc_info[1]).__qualname__
            line["exc"] = record.exc_text or safe_traceback(record.exc_info[1])
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, default=str)


def log_handler(log_format: str) -> logging.StreamHandler[TextIO]:
    """A stderr handler in `log_format` ("text" or "json") that carries the request id."""
    handler = logging.StreamHandler()
    handler.addFilter(LogContext())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(log_format: str) -> None:
    """The process's logging: INFO and up, to stderr, as text or JSON lines."""
    logging.basicConfig(level=logging.INFO, handlers=[log_handler(log_format)])
