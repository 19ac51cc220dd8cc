"""Tables: responses a spreadsheet can hold, answered as JSON or, when asked, as CSV.

A route returns a `Table`, takes `answer: TableAnswer` and spreads `TABULAR` into its decorator:
`?format=json|csv`, else the Accept header, chooses the form (JSON when nothing says otherwise), and
the OpenAPI document lists both media types and the `format` parameter. The JSON answer is the
Struct's usual encoding, byte for byte.

The CSV is written for a person opening it in a spreadsheet:

- one line per row, the totals row last; the table's other fields (`as_of`, `by`) lead each line;
- headers from a field's `msgspec.Meta(title=...)`, else its name in words ("Free in open homes"); a
  nested Struct's fields become "Beds: available", a `dict` field one column per key any row has,
  in key order ("Homes ready: therapeutic");
- a list of codes or numbers in one cell, its items joined by "; " (a list of records is refused);
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
import re
import types
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, TypedDict, TypeVar, Union, get_args, get_origin

import msgspec
from litestar import Request, Response
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, OpenAPIType, Operation
from litestar.openapi.spec import Schema as OpenAPISchema
from litestar.params import Parameter
from litestar.serialization import default_serializer
from litestar.types import Serializer

from placement.core.errors import NotAcceptable, problem_responses
from placement.core.schemas import Schema

JSON = "application/json"
CSV = "text/csv"
MEDIA_TYPES = {"json": JSON, "csv": CSV}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BYTE_ORDER_MARK = "\ufeff"
LIST_SEPARATOR = "; "
DOWNLOAD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")
CSV_DESCRIPTION = (
    "The same figures as a table: one line per row, totals last, headers a person can read. UTF-8 "
    "with a byte-order mark; a cell starting with =, +, -, @, tab or carriage return (negative "
    "numbers too) is prefixed with ' so a spreadsheet does not run it as a formula."
)


class Table(Schema):
    """A response that is a table: `rows_field` names its list of row Structs; `totals_field`, when
    set, a field holding one more row of the same Struct (or None) that sums them. Its other fields
    describe the whole table (`as_of`, `by`)."""

    rows_field: ClassVar[str] = "rows"
    totals_field: ClassVar[str | None] = None


TableT = TypeVar("TableT", bound=Table)


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
        elif column.per_key or not is_collection(kind) or holds_scalars(kind):
            columns.append(column)
        else:
            raise TypeError(f"{struct.__name__}.{field.name}: a list of records cannot be a table column")
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


def holds_scalars(kind: Any) -> bool:
    """A list of codes, numbers or the like (one cell: its items joined), not of records."""
    items = [title_and_type(arg)[1] for arg in get_args(kind) if arg is not Ellipsis]
    return all(not (is_struct(item) or is_dict(item) or is_collection(item)) for item in items)


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
    if isinstance(plain, list):
        return spreadsheet_safe(LIST_SEPARATOR.join(scalar_text(item) for item in plain))
    return spreadsheet_safe(scalar_text(plain))


def scalar_text(plain: Any) -> str:
    if isinstance(plain, bool):
        return "true" if plain else "false"
    if isinstance(plain, float):
        return f"{plain:.15g}" if math.isfinite(plain) else ""  # JSON has null for NaN and infinities
    if isinstance(plain, int | str):
        return str(plain)
    raise TypeError(f"a table cell cannot hold {type(plain).__name__}: {plain!r}")


def spreadsheet_safe(text: str) -> str:
    """`text` with a `'` in front if a spreadsheet would read it as a formula (negative numbers too)."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class CsvResponse(Response[TableT]):
    """A table, rendered as CSV."""

    def render(self, content: Any, media_type: str, enc_hook: Serializer = default_serializer) -> bytes:
        return table_csv(content, enc_hook)


# --- Negotiation and the route's part ----------------------------------------------------------

Format = Annotated[
    Literal["json", "csv"] | None,
    Parameter(
        description="json or csv, overriding the Accept header (which otherwise decides; JSON by default)"
    ),
]


@dataclass(frozen=True, slots=True)
class TableAnswer:
    """The media type a caller asked a table in; call it with the table to answer."""

    media_type: str

    def __call__(self, table: TableT, name: str) -> Response[TableT]:
        """`table` as asked; as CSV, a download named `<name>.csv` (letters, digits, `.`, `_`, `-`)."""
        if not DOWNLOAD_NAME.fullmatch(name):
            raise ValueError(f"not a safe file name: {name!r}")
        if self.media_type == CSV:
            download = {"Vary": "Accept", "Content-Disposition": f'attachment; filename="{name}.csv"'}
            return CsvResponse(table, media_type=CSV, headers=download)
        return Response(table, headers={"Vary": "Accept"})


def negotiate(request: Request[Any, Any, Any], format: Format = None) -> TableAnswer:
    """`?format=` first, else the Accept header's best match (JSON for `*/*` or no header).

    Raises NotAcceptable if the Accept header allows neither JSON nor CSV.
    """
    media_type = MEDIA_TYPES[format] if format else request.accept.best_match([JSON, CSV])
    if media_type is None:
        raise NotAcceptable(
            f"This table is answered as {JSON} or {CSV} (or choose with ?format=json or ?format=csv); "
            "the Accept header asks for neither."
        )
    return TableAnswer(media_type)


@dataclass
class TabularOperation(Operation):
    """OpenAPI: the route's 200 answer comes as CSV too."""

    def __post_init__(self) -> None:
        answer = (self.responses or {}).get("200")
        assert isinstance(answer, OpenAPIResponse) and answer.content, "a table route answers 200"
        text = OpenAPISchema(type=OpenAPIType.STRING, description=CSV_DESCRIPTION)
        answer.content[CSV] = OpenAPIMediaType(schema=text)


class TabularRoute(TypedDict):
    """What a route handler needs to answer a Table as JSON or CSV: spread it into `@get(...)`."""

    dependencies: dict[str, Provide]
    operation_class: type[Operation]
    responses: dict[int, ResponseSpec]


TABULAR = TabularRoute(
    dependencies={"answer": Provide(negotiate, sync_to_thread=False)},
    operation_class=TabularOperation,
    responses=problem_responses(406),
)
