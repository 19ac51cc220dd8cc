"""Tables answered as JSON or, when asked, as CSV a person can open safely in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any

import msgspec
import pytest
from litestar import Litestar, Response, get
from litestar.testing import TestClient

from placement.core.errors import EXCEPTION_HANDLERS
from placement.core.schemas import Schema
from placement.core.tables import TABULAR, Table, TableAnswer, plan_of, table_csv


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """Tables are pure: their tests need no database or Redis (nor do they reset them)."""
    return None


class BedCounts(Schema):
    available: int
    held: Annotated[int, msgspec.Meta(title="on hold")] = 0


class RegionCapacity(Schema):
    region: str
    beds: BedCounts
    homes_ready: dict[str, int]
    free_in_open_homes: int
    occupancy: float | None = None


class CapacityByRegion(Table):
    rows_field = "regions"
    totals_field = "totals"

    by: str
    as_of: datetime
    regions: list[RegionCapacity]
    totals: RegionCapacity | None = None


CAPACITY = CapacityByRegion(
    by="region",
    as_of=datetime(2025, 6, 1, 12, 30, tzinfo=UTC),
    regions=[
        RegionCapacity(
            region="Boston",
            beds=BedCounts(available=3, held=1),
            homes_ready={"therapeutic": 2},
            free_in_open_homes=4,
            occupancy=0.1 + 0.2,
        ),
        RegionCapacity(
            region="Doña Ana",
            beds=BedCounts(available=0),
            homes_ready={"basic": 5, "therapeutic": 1},
            free_in_open_homes=7,
        ),
    ],
    totals=RegionCapacity(
        region="All regions",
        beds=BedCounts(available=3, held=1),
        homes_ready={"basic": 5, "therapeutic": 3},
        free_in_open_homes=11,
        occupancy=0.25,
    ),
)


class Shift(Schema):
    hours: int


class Day(Schema):
    day: date
    shift: Shift | None


class Days(Table):
    rows: list[Day]


class Change(Schema):
    change: Annotated[int, msgspec.Meta(title="-1 day")]
    homes: dict[str, int]


class Changes(Table):
    by: Annotated[str, msgspec.Meta(title="=cmd|' /C calc'!A0")]
    rows: list[Change]


class Counts(Table):
    rows: list[int]


class Speakers(Schema):
    languages: list[str]


class SpeakerTable(Table):
    rows: list[Speakers]


class Group(Schema):
    members: list[Speakers]


class GroupTable(Table):
    rows: list[Group]


class MismatchedTotals(Table):
    totals_field = "totals"
    rows: list[RegionCapacity]
    totals: BedCounts


# Where each CSV column's value sits in the JSON document of a row (or, for the first two, the table).
JSON_PATHS = {
    "By": ("by",),
    "As of": ("as_of",),
    "Region": ("region",),
    "Beds: available": ("beds", "available"),
    "Beds: on hold": ("beds", "held"),
    "Homes ready: basic": ("homes_ready", "basic"),
    "Homes ready: therapeutic": ("homes_ready", "therapeutic"),
    "Free in open homes": ("free_in_open_homes",),
    "Occupancy": ("occupancy",),
}


@get("/capacity", **TABULAR)
async def capacity_by_region(answer: TableAnswer) -> Response[CapacityByRegion]:
    return answer(CAPACITY, "capacity-by-region")


@get("/capacity-without-csv")
async def capacity_as_json_only() -> CapacityByRegion:
    return CAPACITY


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient[Litestar]]:
    app = Litestar([capacity_by_region, capacity_as_json_only], exception_handlers=EXCEPTION_HANDLERS)
    with TestClient(app) as client:
        yield client


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def read_json_value(document: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = document
    for step in path:
        value = value.get(step) if value is not None else None
    return value


def as_json_has_it(cell: str) -> Any:
    """A CSV cell back as a JSON value: the spreadsheet escape removed, numbers as numbers."""
    text = cell.removeprefix("'")
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def one_row(**fields: Any) -> CapacityByRegion:
    values: dict[str, Any] = {
        "region": "Boston",
        "beds": BedCounts(available=1),
        "homes_ready": {},
        "free_in_open_homes": 0,
    }
    return CapacityByRegion(
        by="region", as_of=CAPACITY.as_of, regions=[RegionCapacity(**{**values, **fields})]
    )


def test_csv_has_the_same_figures_as_the_json(client: TestClient[Litestar]) -> None:
    document = client.get("/capacity").json()
    header, *lines = read_csv(client.get("/capacity?format=csv").content)

    assert header == list(JSON_PATHS)
    json_rows = [*document["regions"], document["totals"]]
    assert len(lines) == len(json_rows)
    for line, json_row in zip(lines, json_rows, strict=True):
        for name, cell in zip(header, line, strict=True):
            source = document if name in ("By", "As of") else json_row
            expected = read_json_value(source, JSON_PATHS[name])
            assert as_json_has_it(cell) == pytest.approx(expected), name


def test_totals_row_comes_last_and_none_leaves_it_out() -> None:
    regions = [line[2] for line in read_csv(table_csv(CAPACITY))[1:]]
    without_totals = read_csv(table_csv(msgspec.structs.replace(CAPACITY, totals=None)))

    assert regions == ["Boston", "Doña Ana", "All regions"]
    assert [line[2] for line in without_totals[1:]] == ["Boston", "Doña Ana"]


def test_nested_structs_flatten_and_dicts_spread_one_column_per_key_in_order() -> None:
    header, boston, dona_ana, totals = read_csv(table_csv(CAPACITY))

    assert header[3:7] == [
        "Beds: available",
        "Beds: on hold",
        "Homes ready: basic",
        "Homes ready: therapeutic",
    ]
    assert boston[3:7] == ["3", "1", "", "2"]
    assert dona_ana[3:7] == ["0", "0", "5", "1"]
    assert totals[3:7] == ["3", "1", "5", "3"]


def test_headers_are_titles_else_field_names_in_words() -> None:
    header = read_csv(table_csv(CAPACITY))[0]

    assert "Free in open homes" in header  # free_in_open_homes
    assert "Beds: on hold" in header  # BedCounts.held, titled "on hold"
    assert "As of" in header


def test_values_are_written_as_the_json_has_them() -> None:
    header, line = read_csv(table_csv(one_row(occupancy=0.1 + 0.2)))[:2]
    cells = dict(zip(header, line, strict=True))

    assert cells["As of"] == "2025-06-01T12:30:00Z"
    assert cells["Occupancy"] == "0.3"  # not 0.30000000000000004
    assert read_csv(table_csv(one_row(occupancy=None)))[1][-1] == ""
    assert read_csv(table_csv(one_row(occupancy=math.nan)))[1][-1] == ""  # JSON has null


def test_a_day_and_a_missing_nested_struct_are_cells_too() -> None:
    table = Days(
        rows=[Day(day=date(2025, 6, 1), shift=Shift(hours=8)), Day(day=date(2025, 6, 2), shift=None)]
    )

    assert read_csv(table_csv(table)) == [["Day", "Shift: hours"], ["2025-06-01", "8"], ["2025-06-02", ""]]


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_cell_a_spreadsheet_would_run_as_a_formula_is_escaped(start: str) -> None:
    formula = f'{start}HYPERLINK("http://evil.example","x")'
    line = read_csv(table_csv(one_row(region=formula)))[1]

    assert line[2] == f"'{formula}"


def test_negative_numbers_are_escaped_as_text() -> None:
    line = read_csv(table_csv(one_row(beds=BedCounts(available=-3), occupancy=-0.5)))[1]

    assert line[3] == "'-3"
    assert line[-1] == "'-0.5"


def test_headers_that_look_like_formulas_are_escaped() -> None:
    header = read_csv(table_csv(Changes(by="=1+1", rows=[Change(change=1, homes={"@x": 1})])))[0]

    assert header == ["'=cmd|' /C calc'!A0", "'-1 day", "Homes: @x"]


def test_csv_is_utf8_with_a_byte_order_mark_and_crlf_line_ends() -> None:
    content = table_csv(CAPACITY)

    assert content.startswith(b"\xef\xbb\xbfBy,As of,")
    assert content.count(b"\r\n") == 4
    assert "Doña Ana".encode() in content


def test_a_table_with_no_rows_is_its_header_line() -> None:
    empty = msgspec.structs.replace(CAPACITY, regions=[], totals=None)

    [header] = read_csv(table_csv(empty))

    assert "Homes ready: basic" not in header  # a dict's columns are the keys some row has
    assert header == [
        "By",
        "As of",
        "Region",
        "Beds: available",
        "Beds: on hold",
        "Free in open homes",
        "Occupancy",
    ]


def test_a_table_whose_rows_are_not_a_list_of_structs_is_refused() -> None:
    with pytest.raises(TypeError, match="must be a list of row Structs"):
        plan_of(Counts)


def test_a_list_of_codes_is_one_cell_its_items_joined_and_made_safe() -> None:
    table = SpeakerTable(
        rows=[Speakers(languages=["en", "es"]), Speakers(languages=["=cmd", "pt"]), Speakers(languages=[])]
    )

    assert read_csv(table_csv(table)) == [["Languages"], ["en; es"], ["'=cmd; pt"], [""]]


def test_a_list_of_records_in_a_row_is_refused() -> None:
    with pytest.raises(TypeError, match=r"Group\.members: a list of records cannot be a table column"):
        plan_of(GroupTable)


def test_totals_of_another_struct_are_refused() -> None:
    with pytest.raises(TypeError, match=r"MismatchedTotals\.totals must be a RegionCapacity or None"):
        plan_of(MismatchedTotals)


def test_json_answer_is_the_structs_own_encoding(client: TestClient[Litestar]) -> None:
    answer = client.get("/capacity")

    assert answer.content == msgspec.json.encode(CAPACITY)
    assert answer.content == client.get("/capacity-without-csv").content
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["vary"] == "Accept"
    assert "content-disposition" not in answer.headers


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/csv;q=0.5, application/json"])
def test_json_is_the_answer_unless_csv_is_preferred(client: TestClient[Litestar], accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}

    answer = client.get("/capacity", headers=headers)

    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["by"] == "region"


@pytest.mark.parametrize("accept", ["text/csv", "text/*", "application/json;q=0.5, text/csv"])
def test_csv_is_the_answer_when_preferred(client: TestClient[Litestar], accept: str) -> None:
    answer = client.get("/capacity", headers={"Accept": accept})

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="capacity-by-region.csv"'
    assert answer.headers["vary"] == "Accept"
    assert answer.content == table_csv(CAPACITY)


def test_format_parameter_beats_the_accept_header(client: TestClient[Litestar]) -> None:
    as_csv = client.get("/capacity?format=csv", headers={"Accept": "application/json"})
    as_json = client.get("/capacity?format=json", headers={"Accept": "text/csv"})
    despite_png = client.get("/capacity?format=csv", headers={"Accept": "image/png"})

    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_json.headers["content-type"] == "application/json"
    assert despite_png.status_code == 200


def test_an_unknown_format_is_a_bad_request(client: TestClient[Litestar]) -> None:
    answer = client.get("/capacity?format=xlsx")

    assert answer.status_code == 400
    assert answer.json()["errors"][0]["key"] == "format"


def test_a_media_type_neither_json_nor_csv_is_not_acceptable(client: TestClient[Litestar]) -> None:
    answer = client.get("/capacity", headers={"Accept": "image/png"})

    assert answer.status_code == 406
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["title"] == "Not Acceptable"
    assert "text/csv" in problem["detail"]


def test_an_unsafe_download_name_is_refused() -> None:
    with pytest.raises(ValueError, match="not a safe file name"):
        TableAnswer("text/csv")(CAPACITY, 'x"; filename="evil.exe')


def test_openapi_lists_both_media_types_the_format_parameter_and_406(client: TestClient[Litestar]) -> None:
    schema = json.loads(client.get("/schema/openapi.json").content)
    operation = schema["paths"]["/capacity"]["get"]

    content = operation["responses"]["200"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/CapacityByRegion"}
    assert content["text/csv"]["schema"]["type"] == "string"
    [format_parameter] = operation["parameters"]
    assert (format_parameter["name"], format_parameter["in"]) == ("format", "query")
    assert {"json", "csv"} <= set(format_parameter["schema"]["enum"])
    assert operation["responses"]["406"]["content"]["application/problem+json"]
