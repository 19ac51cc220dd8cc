"""Tables: responses a spreadsheet can hold, written as CSV.

The CSV is written for a person opening it in a spreadsheet:

- one line per row, the totals row last; the table's other fields (`as_of`, `by`) lead each line;
- headers from a field's `msgspec.Meta(title=...)`, else its name in words ("Free in open homes"); a
  nested Struct's fields become "Beds: available", a `dict` field one column per key any row has,
  in key order ("Homes ready: therapeutic");
- values as the JSON has them (ISO 8601 dates, ids, enum values, true/false), floats to 15
  significant digits (no binary noise such as 0.30000000000000004), None and NaN as empty cells;
- every cell, header or value, that starts with =, +, -, @, a tab or a carriage return gets a `'`
  in front, so a spreadsheet shows it as text instead of running it as a formula (OWASP, CSV
  injection). Negative numbers too: -3 reads '-3, as text a spreadsheet will not sum; a table
  should carry a shortfall and a surplus as two counts, not as one signed difference;
- UTF-8 with a byte-order mark: without one, Excel reads the file as Windows-1252 and garbles
  "Doña Ana County"; Python (`utf-8-sig`), pandas, LibreOffice and Google Sheets read it either way.
"""

from __future__ import annotations

import csv
import io
import math
import types
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

import msgspec
from litestar.serialization import default_serializer
from litestar.types import Serializer

from placement.core.schemas import Schema

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BYTE_ORDER_MARK = "\ufeff"


class Table(Schema):
    """A response that is a table: `rows_field` names its list of row Structs; `totals_field`, when
    set, a field holding one more row of the same Struct (or None) that sums them. Its other fields
    describe the whole table (`as_of`, `by`)."""

    rows_field: ClassVar[str] = "rows"
    totals_field: ClassVar[str | None] = None


# --- Columns -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its header and the attributes (then, past a dict, the key) leading to its value.
    `per_key` marks a dict field, which becomes one column per key the rows have."""

    header: str
    path: tuple[str, ...]
    per_key: bool = False


@dataclass(frozen=True, slots=True)
class TablePlan:
    """The columns of a Table type: those of its own fields, then those of its rows."""

    context: tuple[Column, ...]
    rows: tuple[Column, ...]


@cache
def plan_of(table: type[Table]) -> TablePlan:
    """Raises TypeError if the rows field is not a list of Structs, the totals not one of them, or a
    field is neither a value, a Struct nor a dict of values."""
    row = row_type(table)
    if table.totals_field is not None and field_type(table, table.totals_field) is not row:
        raise TypeError(f"{table.__name__}.{table.totals_field} must be a {row.__name__} or None")
    table_fields = {table.rows_field, table.totals_field}
    return TablePlan(
        context=tuple(struct_columns(table, skip=table_fields)),
        rows=tuple(struct_columns(row)),
    )


def row_type(table: type[Table]) -> type[msgspec.Struct]:
    rows = field_type(table, table.rows_field)
    items = get_args(rows)
    if get_origin(rows) not in (list, tuple) or not items or not is_struct(items[0]):
        raise TypeError(f"{table.__name__}.{table.rows_field} must be a list of row Structs")
    row: type[msgspec.Struct] = items[0]
    return row


def field_type(struct: type[msgspec.Struct], name: str) -> Any:
    """The type of a field without its annotations, None or UNSET; raises TypeError if none such."""
    for field in msgspec.structs.fields(struct):
        if field.name == name:
            return title_and_type(field.type)[1]
    raise TypeError(f"{struct.__name__} has no field {name!r}")


def struct_columns(
    struct: type[msgspec.Struct],
    parent: Column | None = None,
    skip: Collection[str | None] = (),
) -> list[Column]:
    """The columns of a Struct's fields in declaration order, nested Structs flattened in place."""
    columns: list[Column] = []
    for field in msgspec.structs.fields(struct):
        if field.name in skip:
            continue
        title, kind = title_and_type(field.type)
        column = Column(
            header_of(title, field.name, parent),
            (*parent.path, field.name) if parent else (field.name,),
            per_key=is_dict(kind),
        )
        if is_struct(kind):
            columns.extend(struct_columns(kind, column))
        elif column.per_key or not is_collection(kind):
            columns.append(column)
        else:
            raise TypeError(f"{struct.__name__}.{field.name}: a list cannot be a table column")
    return columns


def title_and_type(annotation: Any) -> tuple[str | None, Any]:
    """A field's title (the outermost `msgspec.Meta(title=...)`) and its type without annotations,
    None or UNSET."""
    title: str | None = None
    while True:
        if get_origin(annotation) is Annotated:
            titles = [meta.title for meta in annotation.__metadata__ if isinstance(meta, msgspec.Meta)]
            title = title or next((t for t in reversed(titles) if t), None)
            annotation = annotation.__origin__
            continue
        if get_origin(annotation) in (Union, types.UnionType):
            arms = [arm for arm in get_args(annotation) if arm not in (types.NoneType, msgspec.UnsetType)]
            if len(arms) == 1:
                annotation = arms[0]
                continue
        return title, annotation


def header_of(title: str | None, name: str, parent: Column | None) -> str:
    """The title if given, else the name in words: "Free in open homes", "Beds: available"."""
    words = title or name.replace("_", " ").strip()
    return f"{parent.header}: {words}" if parent else words[:1].upper() + words[1:]


def is_struct(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, msgspec.Struct)


def is_dict(kind: Any) -> bool:
    return (get_origin(kind) or kind) is dict


def is_collection(kind: Any) -> bool:
    return (get_origin(kind) or kind) in (list, tuple, set, frozenset)


def columns_for(plan: Iterable[Column], items: list[Any]) -> list[Column]:
    """The plan's columns, each dict field spread into one column per key found in `items`."""
    columns: list[Column] = []
    for column in plan:
        if column.per_key:
            keys = keys_at(column.path, items)
            columns.extend(Column(f"{column.header}: {key}", (*column.path, key)) for key in keys)
        else:
            columns.append(column)
    return columns


def keys_at(path: tuple[str, ...], items: list[Any]) -> list[Any]:
    """The keys of the dicts down `path` in any of `items`, in order."""
    return sorted({key for item in items if isinstance(found := value_at(item, path), dict) for key in found})


def value_at(item: Any, path: tuple[str, ...]) -> Any:
    """The value down `path` (attributes, then a dict key); None where a step is None or missing."""
    for step in path:
        if item is None or item is msgspec.UNSET:
            return None
        item = item.get(step) if isinstance(item, dict) else getattr(item, step)
    return item


# --- CSV ---------------------------------------------------------------------------------------


def table_csv(table: Table, enc_hook: Serializer = default_serializer) -> bytes:
    """The table as CSV for a spreadsheet (see the module's docstring)."""
    plan = plan_of(type(table))
    rows = list(getattr(table, table.rows_field))
    totals = getattr(table, table.totals_field) if table.totals_field else None
    if totals is not None:
        rows.append(totals)
    context, columns = columns_for(plan.context, [table]), columns_for(plan.rows, rows)
    leading = [cell(value_at(table, column.path), enc_hook) for column in context]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(spreadsheet_safe(column.header) for column in [*context, *columns])
    writer.writerows([*leading, *(cell(value_at(row, c.path), enc_hook) for c in columns)] for row in rows)
    return (BYTE_ORDER_MARK + out.getvalue()).encode()


def cell(value: Any, enc_hook: Serializer = default_serializer) -> str:
    """A value as its JSON has it, written safe for a spreadsheet."""
    if value is None or value is msgspec.UNSET:
        return ""
    plain = msgspec.to_builtins(value, enc_hook=enc_hook)
    if isinstance(plain, bool):
        text = "true" if plain else "false"
    elif isinstance(plain, float):
        text = f"{plain:.15g}" if math.isfinite(plain) else ""  # JSON has null for NaN and infinities
    elif isinstance(plain, int | str):
        text = str(plain)
    else:
        raise TypeError(f"a table cell cannot hold {type(value).__name__}: {value!r}")
    return spreadsheet_safe(text)


def spreadsheet_safe(text: str) -> str:
    """`text` with a `'` in front if a spreadsheet would read it as a formula (negative numbers too)."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
