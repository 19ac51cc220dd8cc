"""The run, its table and its command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from placement.bench.api import client_loop_factory, interruptible
from placement.bench.capacity.reads import Read, ScaleFigures, measure_scale
from placement.bench.capacity.whatif import NEW_BEDS_AT, WhatIfFigures, measure_what_if, scenario
from placement.bench.service import Spread, refuse_busy_queue, settings_on_redis_db
from placement.core.settings import Settings

MIB = 1024**2
SCALE_COLUMN = 14


@dataclass(frozen=True, slots=True)
class CapacityBenchResult:
    runs: int
    scales: list[ScaleFigures]
    what_if: WhatIfFigures | None

    def as_json(self) -> dict[str, Any]:
        found = asdict(self)
        for scale, figures in zip(self.scales, found["scales"], strict=True):
            for read in ("now", "history"):
                figures[read]["ratio"] = round(getattr(scale, read).ratio, 2)
            figures["backfill"]["seconds_per_day"] = round(scale.backfill.seconds_per_day, 4)
        return found


# --- The run ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    scales: tuple[int, ...]
    runs: int
    days: int
    what_if: bool
    beds: int
    households: int
    youth: int
    region: str
    new_beds: int


def run_capacity_bench(settings: Settings, options: Options) -> CapacityBenchResult:
    with contextlib.ExitStack() as stack:
        runner = stack.enter_context(asyncio.Runner(loop_factory=client_loop_factory()))
        if settings.redis_url:
            runner.run(refuse_busy_queue(settings.redis_url))
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="placement-capacity-")))
        scales = [
            measure_scale(runner, settings, scale, options.runs, options.days, scratch)
            for scale in options.scales
        ]
        found = None
        if options.what_if:
            size = (options.beds, options.households, options.youth)
            asked = scenario(options.region, options.new_beds)
            found = measure_what_if(runner, settings, size, asked, scratch)
    return CapacityBenchResult(options.runs, scales, found)


# --- The table --------------------------------------------------------------------------------

Rows = list[tuple[str, list[str]]]


def _table(title: str, heads: list[str], rows: Rows, width: int = 12) -> list[str]:
    """The title over the labels, a column per head, each at least `width` wide."""
    label = max(44, len(title) - 2, *(len(name) for name, _ in rows))
    widths = [max(width, len(h), *(len(values[k]) for _, values in rows)) for k, h in enumerate(heads)]

    def line(start: str, cells: list[str]) -> str:
        return start + "".join(f"  {cell:>{width}}" for cell, width in zip(cells, widths, strict=True))

    return [
        line(f"{title:<{label + 2}}", heads),
        *(line(f"  {name:<{label}}", values) for name, values in rows),
    ]


def _ms(s: Spread) -> str:
    return f"{s.p50_ms:.1f} / {s.p99_ms:.1f}"


def _slowest(r: Read) -> str:
    s = r.slowest
    return "-" if s is None else f"{s.p50_ms:.1f} ({s.jit_ms:.0f} JIT)"


def _read_rows(reads: list[Read]) -> Rows:
    return [
        ("service p50 / p99 ms", [_ms(r.service) for r in reads]),
        ("same statements on asyncpg p50 / p99 ms", [_ms(r.asyncpg) for r in reads]),
        ("service / asyncpg at p50", [f"{r.ratio:.2f}x" for r in reads]),
        ("SQL statements per request", [str(r.statements) for r in reads]),
        ("slowest statement on asyncpg p50 ms", [_slowest(r) for r in reads]),
        ("rows, response KiB", [f"{r.rows}, {r.response_bytes / 1024:.0f}" for r in reads]),
    ]


def _slowest_sql(reads: list[Read]) -> list[str]:
    named = dict.fromkeys(r.slowest.sql for r in reads if r.slowest is not None)
    return [f"  slowest statement: {sql}..." for sql in named]


def report_scales(scales: list[ScaleFigures]) -> list[str]:
    heads = [f"demo {s.scale}x" for s in scales]
    days = scales[0].backfill.days
    now, history = [s.now for s in scales], [s.history for s in scales]

    def table(title: str, rows: Rows) -> list[str]:
        return _table(title, heads, rows, width=SCALE_COLUMN)

    data = [
        ("safe houses / beds", [f"{s.houses} / {s.beds}" for s in scales]),
        ("households / caregivers", [f"{s.households} / {s.caregivers}" for s in scales]),
        ("completions", [str(s.completions) for s in scales]),
        ("youth / placements", [f"{s.youth} / {s.placements}" for s in scales]),
    ]
    backfilled = [
        ("seconds per day", [f"{s.backfill.seconds_per_day:.3f}" for s in scales]),
        ("seconds in all", [f"{s.backfill.seconds:.1f}" for s in scales]),
        ("SQL statements per day", [f"{s.backfill.statements / days:g}" for s in scales]),
        ("snapshots stored", [str(s.backfill.stored) for s in scales]),
    ]
    return [
        *table("data (the demo's, dated over the past)", data),
        "",
        *table("GET /capacity?by=county", _read_rows(now)),
        *_slowest_sql(now),
        "",
        *table(f"backfill of {days} days (in process)", backfilled),
        "",
        *table(f"GET /capacity/history?by=county, {days} days", _read_rows(history)),
        *_slowest_sql(history),
    ]


def describe(asked: dict[str, Any]) -> str:
    parts = [f"{asked['training']['region']}'s homes trained for {asked['training']['level']}"]
    if asked.get("new_beds"):
        parts.append(f"{asked['new_beds']['beds']} new beds in {NEW_BEDS_AT[1]} taking every youth")
    return " and ".join(parts)


def report_what_if(w: WhatIfFigures) -> list[str]:
    f, trials = w.floor, (w.first, w.again)

    def placed(awaiting: int | None, before: int | None, after: int | None) -> str:
        return f"{before} -> {after} of {awaiting}"

    def mib(rss: int) -> str:
        return f"{rss / MIB:.0f}"

    by_process = "; ".join(
        f"{name}: " + ", ".join(f"{p} {mib(rss)}" for p, rss in t.peak_rss_by_process.items())
        for name, t in (("first", w.first), ("again", w.again))
    )
    rows: Rows = [
        ("end to end s (floor: load + solves)", [f"{t.seconds:.2f}" for t in trials] + [f"{f.seconds:.2f}"]),
        ("  load s / solves s", ["", "", f"{f.load_seconds:.2f} / {f.solve_seconds:.2f}"]),
        ("peak RSS MiB, server + children", [mib(t.peak_rss_bytes) for t in trials] + ["-"]),
        ("  server + children MiB before asking", [mib(t.rss_before_bytes) for t in trials] + ["-"]),
        ("SQL: the POST", [str(t.ask_statements) for t in trials] + ["-"]),
        ("SQL: the job, in the server", [str(t.job_statements) for t in trials] + ["-"]),
        ("SQL: the load, in the pool process", ["as floor", "as floor", str(f.load_statements)]),
        ("SQL: the GETs polling / GETs", [f"{t.poll_statements} / {t.polls}" for t in trials] + ["-"]),
        (
            "households trained / beds added",
            [f"{t.households_trained} / {t.beds_added}" for t in trials]
            + [f"{f.households_trained} / {f.beds_added}"],
        ),
        (
            "placed before -> after",
            [placed(t.awaiting, t.placed_before, t.placed_after) for t in trials]
            + [placed(f.awaiting, f.placed_before, f.placed_after)],
        ),
        ("engine status before", ["", "", f.status_before]),
        ("engine status after", ["", "", f.status_after]),
    ]
    return [
        f"what-if: {describe(w.scenario)}; {f.awaiting} youth awaiting x {w.targets} targets "
        f"({w.beds} free beds, {w.households} households)",
        *_table("", ["first ask", "asked again", "floor"], rows),
        f"  peak RSS by process, MiB: {by_process}",
    ]


def report(result: CapacityBenchResult) -> str:
    lines = [
        f"placement bench capacity: each read {result.runs} times through the real service (HTTP, as a "
        "program lead), and its SQL as many times on bare asyncpg"
    ]
    if result.scales:
        lines += ["", *report_scales(result.scales)]
    if result.what_if is not None:
        lines += ["", *report_what_if(result.what_if)]
    return "\n".join(lines)


@click.command("capacity")
@click.option(
    "--scale",
    "scales",
    multiple=True,
    default=(1, 10),
    show_default=True,
    type=click.IntRange(1, 100),
    help="Multiples of the demo's data set to read at; repeat for several.",
)
@click.option("--runs", default=100, show_default=True, type=click.IntRange(1, 10_000), help="Per read.")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, 1000), help="Of history.")
@click.option("--what-if/--no-what-if", "ask", default=True, show_default=True, help="Run the what-if.")
@click.option(
    "--beds", default=1500, show_default=True, type=click.IntRange(1, 50_000), help="For the what-if."
)
@click.option("--households", default=8500, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--youth", default=2000, show_default=True, type=click.IntRange(1, 20_000), help="Awaiting.")
@click.option("--region", default="Northern", show_default=True, help="Whose homes the what-if trains.")
@click.option(
    "--new-beds",
    default=30,
    show_default=True,
    type=click.IntRange(0, 500),
    help="Beds the what-if adds in Worcester, taking every youth (0: none).",
)
@click.option(
    "--redis-db", default=12, show_default=True, type=click.IntRange(0, 15), help="The bench's Redis db."
)
@click.option("--json", "as_json", is_flag=True, help="After the table, the figures as one JSON line.")
def capacity_bench(
    scales: tuple[int, ...],
    runs: int,
    days: int,
    ask: bool,
    beds: int,
    households: int,
    youth: int,
    region: str,
    new_beds: int,
    redis_db: int,
    as_json: bool,
) -> None:
    """Capacity reads at the demo's scale and 10x, and a what-if, through the service beside baselines."""
    settings = settings_on_redis_db(redis_db)
    options = Options(
        tuple(dict.fromkeys(scales)), runs, days, ask, beds, households, youth, region, new_beds
    )
    with interruptible():
        result = run_capacity_bench(settings, options)
    click.echo(report(result))
    if as_json:
        click.echo(json.dumps(result.as_json()))


if __name__ == "__main__":
    capacity_bench()
