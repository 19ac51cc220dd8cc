"""Log lines: one JSON object a line with the request id, and never a value a database error echoes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from placement.core import health
from placement.core.logs import log_handler
from placement.core.resources import Resources
from placement.core.settings import Settings

SECRET = "Jane Roe, 12 Elm Street"


@contextmanager
def captured(log_format: str) -> Iterator[io.StringIO]:
    """What the service's loggers write meanwhile, through the handler `placement` sets up."""
    buffer = io.StringIO()
    handler = log_handler(log_format)
    handler.setStream(buffer)
    service = logging.getLogger("placement")
    service.addHandler(handler)
    try:
        yield buffer
    finally:
        service.removeHandler(handler)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    with captured("json") as buffer:
        yield buffer


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


async def test_an_error_in_a_request_is_one_json_line_with_that_requests_id(
    client: httpx.AsyncClient, json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> None:
        raise RuntimeError("the load could not be read")

    monkeypatch.setattr(health, "current_load", fail)
    response = await client.get("/health/ready", headers={"X-Request-ID": "ready-check-0001"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "ready-check-0001"
    (line,) = lines(json_log)
    assert line["request_id"] == "ready-check-0001"
    assert line["level"] == "ERROR" and line["logger"] == "placement.errors"
    assert line["message"] == "unhandled error on GET /health/ready"
    assert line["exc_type"] == "RuntimeError"
    assert "Traceback" in line["exc"] and "the load could not be read" in line["exc"]
    assert line["at"].endswith("+00:00")


async def test_a_line_logged_outside_a_request_has_no_request_id(json_log: io.StringIO) -> None:
    logging.getLogger("placement.worker").warning("expired %d overdue hold(s)", 3)
    (line,) = lines(json_log)
    assert line["message"] == "expired 3 overdue hold(s)" and "request_id" not in line


async def database_errors(resources: Resources) -> list[DBAPIError]:
    """Real errors whose driver messages quote the values sent: a duplicate key, a bad number."""
    caught: list[DBAPIError] = []
    async with resources.engine.connect() as connection:
        await connection.execute(text("CREATE TEMP TABLE people (name text UNIQUE)"))
        await connection.execute(text("INSERT INTO people VALUES (:name)"), {"name": SECRET})
        for statement in ("INSERT INTO people VALUES (:value)", "SELECT CAST(:value AS int)"):
            try:
                async with connection.begin_nested():
                    await connection.execute(text(statement), {"value": SECRET})
            except DBAPIError as error:
                caught.append(error)
        await connection.rollback()
    return caught


@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_a_logged_database_error_keeps_its_type_but_not_the_values_it_quotes(
    log_format: str, resources: Resources
) -> None:
    log = logging.getLogger("placement.worker")
    errors = await database_errors(resources)
    assert all(SECRET in str(getattr(error.orig, "__cause__", None)) for error in errors)  # quoted
    with captured(log_format) as buffer:
        for error in errors:
            try:
                raise error
            except DBAPIError as raised:  # as arq logs a failed job
                log.exception("job failed, %s: %s", type(raised).__name__, raised)
    written = buffer.getvalue()
    assert SECRET not in written and "Elm" not in written
    assert "UniqueViolationError" in written and "sqlstate 23505" in written
    assert "constraint_name people_name_key" in written
    assert "job failed, IntegrityError: sqlalchemy.exc.IntegrityError (message withheld" in written
    if log_format == "json":
        assert [line["exc_type"] for line in lines(buffer)] == ["IntegrityError", "DBAPIError"]


def test_the_log_format_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"PLACEMENT_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ValueError, match="PLACEMENT_LOG_FORMAT"):
        Settings.from_env({"PLACEMENT_LOG_FORMAT": "yaml"})


@pytest.mark.parametrize("method, path", [("GET", "/no/such/page"), ("DELETE", "/health/live")])
async def test_an_answer_no_route_gives_carries_a_request_id_and_every_answers_headers(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    """A 404 or 405 comes from the router, before any route's middleware: the front door stamps it."""
    first = await client.request(method, path)
    second = await client.request(method, path, headers={"X-Request-ID": "probe-0000042"})

    assert first.status_code in (404, 405)
    assert first.headers["x-request-id"] and first.headers["x-request-id"] != second.headers["x-request-id"]
    assert second.headers["x-request-id"] == "probe-0000042"
    assert first.headers["x-frame-options"] == "DENY" and first.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in first.headers["content-security-policy"]
