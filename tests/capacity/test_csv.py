"""Every capacity read answers CSV with the numbers its JSON has, under headers a person reads."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from placement.core.resources import Resources
from placement.worker import snapshot_capacity
from tests.capacity.scene import build_scene
from tests.conftest import FakeClock
from tests.factories import API


def in_words(name: str) -> str:
    return name.replace("_", " ").capitalize()


def flattened(row: dict[str, Any]) -> dict[str, str]:
    """A JSON row as the CSV should have it: "Beds: available" -> "3"; None as an empty cell."""
    cells: dict[str, str] = {}
    for name, value in row.items():
        if isinstance(value, dict):
            cells |= {f"{in_words(name)}: {in_words(k).lower()}": cell(v) for k, v in value.items()}
        else:
            cells[in_words(name)] = cell(value)
    return cells


def cell(value: Any) -> str:
    """As JSON writes it: null empty, booleans true and false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def as_read(text: str) -> str | float:
    """A cell as a person reads it: 10 and 10.0 are the same number, and '-2 (escaped so that a
    spreadsheet runs no formula) is -2."""
    if text[:2] in ("'-", "'+", "'=", "'@"):
        text = text[1:]
    try:
        return float(text)
    except ValueError:
        return text


@pytest.mark.parametrize(
    "path",
    [
        "/capacity?by=region",
        "/capacity?by=county",
        "/capacity?by=kind",
        "/capacity/history?by=county",
        "/capacity/targets",
        "/capacity/unmet-need",
        "/capacity/training",
    ],
)
async def test_csv_holds_the_json_numbers_line_by_line(
    client: httpx.AsyncClient, sign_in: Any, resources: Resources, clock: FakeClock, path: str
) -> None:
    staff, lead = await sign_in("placement_staff"), await sign_in("program_lead")
    await build_scene(client, resources, staff, await sign_in("caseworker"), clock())
    await snapshot_capacity({"resources": resources})
    target = {
        "title": "Beds",
        "metric": "safe_house_beds",
        "scope": "statewide",
        "value": 9,
        "due_on": "2030-01-01",
    }
    assert (
        await client.post(f"{API}/capacity/targets", json=target, headers=lead.headers)
    ).status_code == 201

    as_json = (await client.get(f"{API}{path}", headers=lead.headers)).json()
    answer = await client.get(f"{API}{path}", headers={**lead.headers, "Accept": "text/csv"})

    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    rows = as_json["rows"] + ([as_json["statewide"]] if "statewide" in as_json else [])
    assert len(lines) == len(rows) >= 1
    for line, row in zip(lines, rows, strict=True):
        found = {header_key(h): as_read(v) for h, v in line.items()}
        expected = {header_key(h): as_read(v) for h, v in flattened(row).items()}
        assert {h: found[h] for h in expected} == expected


def header_key(header: str) -> str:
    """A header as compared: a dict's keys stand as they are ("Blocked by: specialised_care")."""
    return header.lower().replace("_", " ")
