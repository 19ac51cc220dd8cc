"""Capacity tables on pages and as downloads, laid out by the plan that lays out the API's CSV
(`placement.core.tables`), so the page, the file and the API say the same thing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from litestar import Response

from placement.capacity import access
from placement.core.tables import CSV, Table, columns_for, plan_of, table_csv, value_at
from placement.web.pages import page_opt

READERS = page_opt(*access.READERS["roles"], entity=access.READERS["entity"])
"""The API's readers of the capacity figures: program leads, administrators, placement staff."""
TARGET_SETTERS = page_opt(*access.TARGET_SETTERS["roles"], entity=access.TARGET_SETTERS["entity"])
"""The API's target setters: program leads and administrators."""


@dataclass(frozen=True, slots=True)
class HtmlTable:
    """A Table laid out for a page: the CSV's headers and rows (ids left out), cells as text."""

    headers: list[str]
    rows: list[list[str]]


def html_table(table: Table, leave_out: tuple[str, ...] = ("id",)) -> HtmlTable:
    """The table's rows (totals last) under the headers its CSV has."""
    rows = list(getattr(table, table.rows_field))
    totals = getattr(table, table.totals_field) if table.totals_field else None
    if totals is not None:
        rows.append(totals)
    columns = [c for c in columns_for(plan_of(type(table)).rows, rows) if c.path[-1] not in leave_out]
    return HtmlTable(
        headers=[c.header for c in columns],
        rows=[[shown(value_at(row, c.path)) for c in columns] for row in rows],
    )


def shown(value: Any) -> str:
    """A cell as a person reads it: numbers plain, codes in words, nothing for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{round(value, 2):g}"
    if isinstance(value, list | tuple):
        return ", ".join(shown(item) for item in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).replace("_", " ") if isinstance(value, str) else str(value)


def download(table: Table, name: str) -> Response[bytes]:
    """The table as the API's CSV, as a file to save."""
    return Response(
        table_csv(table),
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
