"""`placement bench api`: the service's routes against floors running the same SQL on bare asyncpg.

Both servers run under uvicorn in subprocesses of their own, against a throw-away database loaded
with ~200 safe houses, the service beside its arq worker process as `placement serve --workers N`
runs it (the worker seals the audit chain); one cheap keep-alive HTTP/1.1 client in this process
drives each in turn.
The scenarios: free-bed searches, audited youth reads, and holds placed and cancelled, each beside
its floor; and a burst of holds at once on the real service alone, after which the database's
invariants are checked directly. The figures are compared with each scenario's targets.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import json
import resource
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from typing import Any

import click
from litestar import Litestar

from placement.bench.burst import BurstResult, run_burst
from placement.bench.data import Demand, load_bench_data
from placement.bench.load import Figures, Target
from placement.bench.scenarios import REWARM_S, ROUNDS, SCENARIOS, Comparison, compare
from placement.bench.sealing import MAX_DELAY_MS, Sealing, sealing_delays
from placement.bench.servers import serving
from placement.core import migrate
from placement.core.databases import throwaway_database
from placement.core.embedded import embedded_servers
from placement.core.settings import Settings, plain_postgres_url
from placement.serving import servers_in_environment, worker_process

APP_MODULE = "placement.bench.api"  # not __name__: that is "__main__" under `python -m`
FLOOR_FACTORY = "placement.bench.floor:floor_app"
API_PREFIX = "/api/v1"
BURST = "burst"
SCENARIO_NAMES = (*(scenario.name for scenario in SCENARIOS), BURST)
FILES_PER_CONNECTION = 2  # each burst connection: the client's socket here, the server's in its process


def real_app() -> Litestar:
    """The service itself, configured from the environment (DATABASE_URL, REDIS_URL)."""
    from placement.app import create_app

    return create_app(Settings.from_env())


# --- Figures ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiBenchResult:
    concurrency: int
    workers: int
    seconds: float
    warmup: float
    rounds: int
    houses: int
    beds: int
    placements: int
    youth: int
    comparisons: list[Comparison]
    burst: BurstResult | None
    sealing: Sealing

    @property
    def failed(self) -> list[str]:
        """The scenarios that missed a target."""
        failed = [c.scenario for c in self.comparisons if not c.passed]
        failed += [BURST] if self.burst and not self.burst.passed else []
        return failed + ([] if self.sealing.passed else ["audit sealing"])

    @property
    def passed(self) -> bool:
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        measured = ("comparisons", "burst", "sealing")
        setup = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in measured}
        scenarios = {c.scenario: c.as_json() for c in self.comparisons}
        if self.burst is not None:
            scenarios[BURST] = self.burst.as_json()
        sealing = {**dataclasses.asdict(self.sealing), "passed": self.sealing.passed}
        return {**setup, "scenarios": scenarios, "sealing": sealing, "passed": self.passed}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def figures_row(f: Figures) -> str:
    return (
        f"{f.name:<6} {f.requests:>9} {f.errors:>7} {f.throughput:>9.1f} "
        f"{f.p50_ms:>8.2f} {f.p90_ms:>8.2f} {f.p99_ms:>8.2f} {f.max_ms:>8.2f}"
    )


def report_comparison(c: Comparison) -> list[str]:
    """A scenario's table, its ratio and p99 against the targets."""
    header = f"{'':<6} {'requests':>9} {'errors':>7} {'req/s':>9}" + "".join(
        f" {p + ' ms':>8}" for p in ("p50", "p90", "p99", "max")
    )
    lines = [f"{c.title} ({c.scenario})", header]
    for f in (c.real, c.floor):
        lines.append(figures_row(f))
        lines.extend(f"  {f.name} error: {sample}" for sample in f.error_samples)
    lines.append(
        f"ratio real/floor throughput: {c.ratio:.2f}  "
        f"(target >= {c.min_throughput_ratio:.2f}) {verdict(c.throughput_ok)}"
    )
    if c.max_p99_ms is not None:
        lines.append(
            f"real p99: {c.real.p99_ms:.2f} ms  (target < {c.max_p99_ms:g} ms) {verdict(c.latency_ok)}"
        )
    if c.real.errors or c.floor.errors:
        lines.append(f"{c.scenario}: some responses were not 2xx {verdict(False)}")
    return lines


def report_burst(b: BurstResult) -> list[str]:
    """The burst's answers by status, its broken connections and the invariants afterwards."""
    inv = b.invariants
    broken = ", ".join(f"{kind} {count}" for kind, count in b.connection_errors.items()) or "none"
    lines = [
        f"POST /placements burst: {b.requests} requests at once, one connection each, "
        f"for {b.beds} free beds, each for a different awaiting youth",
        f"answered {b.answered} of {b.requests}: {b.throughput:.1f} req/s, "
        f"p50 {b.p50_ms:.2f} ms, p99 {b.p99_ms:.2f} ms, max {b.max_ms:.2f} ms",
    ]
    for status, count in b.statuses.items():
        detail = f"  e.g. {b.details[status][:120]}" if status in b.details else ""
        lines.append(f"  HTTP {status}: {count}{detail}")
    lines += [
        f"connection errors: {broken}",
        f"invariants: beds with two live placements {inv.beds_double_booked}, youth with two "
        f"{inv.youth_double_booked}, live holds {inv.live_holds} <= {inv.beds_targeted} beds "
        f"{verdict(inv.hold)}",
        f"burst: no 5xx but 503, no connection error, invariants hold {verdict(b.passed)}"
        + (f" ({b.server_errors} server errors)" if b.server_errors else ""),
    ]
    return lines


def report_sealing(s: Sealing) -> str:
    """How long the real app's audit entries waited to be chained, over the whole run."""
    return (
        f"audit sealing: {s.sealed} entries chained, {s.unsealed} waiting; recorded to sealed "
        f"p50 {s.p50_ms:.1f} ms, p99 {s.p99_ms:.1f} ms, max {s.max_ms:.1f} ms "
        f"(target <= {MAX_DELAY_MS:g} ms) {verdict(s.passed)}"
    )


def report(result: ApiBenchResult) -> str:
    """Every scenario's figures and verdict, then the overall verdict, as printed."""
    lines = [
        f"{result.concurrency} clients, {result.seconds:g} s after {result.warmup:g} s warm-up per server "
        f"in {result.rounds} alternating round{'s' if result.rounds > 1 else ''}; "
        f"the service in {result.workers} API process{'es' if result.workers > 1 else ''} beside its worker; "
        f"{result.houses} safe houses, {result.beds} beds, {result.placements} held or occupied, "
        f"{result.youth} youth"
    ]
    for comparison in result.comparisons:
        lines += ["", *report_comparison(comparison)]
    if result.burst is not None:
        lines += ["", *report_burst(result.burst)]
    lines += ["", report_sealing(result.sealing)]
    failed = f" ({', '.join(result.failed)})" if result.failed else ""
    lines += ["", f"verdict: {verdict(result.passed)}{failed}"]
    return "\n".join(lines)


# --- The run ----------------------------------------------------------------------------------


def client_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    if importlib.util.find_spec("uvloop"):
        import uvloop

        return uvloop.new_event_loop
    return asyncio.new_event_loop


def allow_open_files(connections: int) -> None:
    """Raise this process's open-file limit (the servers inherit it) so a burst can connect."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FILES_PER_CONNECTION * connections + 1024
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@contextlib.contextmanager
def bench_database(settings: Settings, runner: asyncio.Runner) -> Iterator[Settings]:
    """A throw-away database, migrated, on the configured servers (or embedded ones)."""
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="placement-bench-")))
        servers = stack.enter_context(embedded_servers(replace(settings, data_dir=scratch)))
        bench_settings = stack.enter_context(throwaway_database(servers, "placement_bench", runner.run))
        migrate.upgrade(bench_settings)
        yield bench_settings


def run_api_bench(
    settings: Settings,
    houses: int,
    seconds: float,
    warmup: float,
    concurrency: int,
    scenarios: frozenset[str] = frozenset({"free-beds"}),
    burst: int = 2000,
    burst_beds: int = 10,
    workers: int = 1,
    rounds: int = ROUNDS,
) -> ApiBenchResult:
    """Set up servers and data, run the chosen scenarios in order, and tear everything down."""
    chosen = [scenario for scenario in SCENARIOS if scenario.name in scenarios]
    bursting = BURST in scenarios
    demand = Demand(
        writers=concurrency if "write" in scenarios else 0,
        burst=burst if bursting else 0,
        burst_beds=burst_beds if bursting else 0,
    )
    allow_open_files(demand.burst)
    with contextlib.ExitStack() as stack:
        runner = stack.enter_context(asyncio.Runner(loop_factory=client_loop_factory()))
        bench_settings = stack.enter_context(bench_database(settings, runner))
        stack.enter_context(servers_in_environment(bench_settings))
        worker = stack.enter_context(worker_process(subprocess.DEVNULL))  # the chain's sealer, as
        data = runner.run(load_bench_data(bench_settings, houses, demand))  # in `placement serve`
        real_port = stack.enter_context(serving(f"{APP_MODULE}:real_app", bench_settings, workers=workers))
        real = Target("real", real_port, API_PREFIX, data.token)
        comparisons = []
        if chosen:
            floor = Target("floor", stack.enter_context(serving(FLOOR_FACTORY, bench_settings)))
            for scenario in chosen:
                comparisons.append(
                    compare(runner, scenario, real, floor, data, concurrency, warmup, seconds, rounds)
                )
        dsn = plain_postgres_url(bench_settings.sqlalchemy_url)
        if worker.poll() is not None:  # its sealing would have fallen to the API's backstop
            raise click.ClickException(f"the worker exited with status {worker.returncode} during the run")
        return ApiBenchResult(
            concurrency=concurrency,
            workers=workers,
            seconds=seconds,
            warmup=warmup,
            rounds=rounds,
            houses=data.houses,
            beds=data.beds,
            placements=data.placements,
            youth=len(data.youth_ids),
            comparisons=comparisons,
            burst=run_burst(runner, real, data, dsn) if bursting else None,
            sealing=runner.run(sealing_delays(dsn)),
        )


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM acts as Ctrl-C: asyncio cancels the running step, then the servers and database go.

    SIGINT gets Python's own handler meanwhile, even if a shell started this process ignoring it.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.raise_signal(signal.SIGINT)

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def chosen_scenarios(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(SCENARIO_NAMES if "all" in names else names)


@click.command("api")
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    default=("free-beds",),
    show_default=True,
    type=click.Choice([*SCENARIO_NAMES, "all"]),
    help="Repeat to run several (in the order free-beds, audited-read, write, burst); all: every one.",
)
@click.option("--concurrency", default=32, show_default=True, type=click.IntRange(1, 1000))
@click.option("--seconds", default=10.0, show_default=True, type=click.FloatRange(min=0.1))
@click.option("--warmup", default=2.0, show_default=True, type=click.FloatRange(min=0))
@click.option(
    "--rounds",
    default=ROUNDS,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Alternate the service and its floor this many times, --seconds each in all (later rounds "
    f"warm up {REWARM_S:g} s), so the machine's drift weighs on both alike.",
)
@click.option("--houses", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--burst",
    "burst",
    default=2000,
    show_default=True,
    type=click.IntRange(1, 20_000),
    help="Holds sent at once in the burst, one connection each.",
)
@click.option(
    "--burst-beds",
    default=10,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Free beds the burst's holds are for.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 16),
    help="API processes serving the service (as `placement serve --workers N`); the floor keeps one.",
)
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the figures here."
)
def api_bench(
    scenarios: tuple[str, ...],
    concurrency: int,
    seconds: float,
    warmup: float,
    rounds: int,
    houses: int,
    burst: int,
    burst_beds: int,
    workers: int,
    json_path: Path | None,
) -> None:
    """The service's routes over HTTP against bare asyncpg floors running the same SQL, and a burst."""
    with interruptible():
        result = run_api_bench(
            Settings.from_env(),
            houses,
            seconds,
            warmup,
            concurrency,
            chosen_scenarios(scenarios),
            burst,
            burst_beds,
            workers,
            rounds,
        )
    click.echo(report(result))
    if json_path is not None:
        json_path.write_text(json.dumps(result.as_json(), indent=2) + "\n")


if __name__ == "__main__":
    api_bench()
