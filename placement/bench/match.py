"""`placement bench match`: the matcher on statewide Massachusetts instances.

Each case (youth x targets, normal or scarce, seed) is generated on the real places of the
reference data and solved three ways, each in a fresh process so that its peak memory
(``ru_maxrss`` of that process: interpreter, NumPy and OR-Tools included) is its own:

- engine: feasibility, scoring and the batch solve (``solve_batch``);
- greedy: feasibility, scoring and most-urgent-first, best-target-first;
- relaxed: feasibility, scoring and min-cost flow over every feasible pair, siblings placed
  apart: an upper bound.

Each row gives the method's status (the engine's: ``optimal``, ``effort_limit`` or
``time_limit``), objective and bound (the engine's proven one; the relaxed optimum, which bounds
every plan), its gap to the best bound of the two, and its time, also as a multiple of the
relaxed flow's in the same run. Before that, one youth is ranked against 10,000 targets, in
process, many times.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import click
import msgspec
import numpy as np

from placement.matching.arrays import compile_targets
from placement.matching.flow import assign
from placement.matching.greedy import greedy_by_urgency
from placement.matching.limits import DEFAULT_EFFORT, DEFAULT_SECONDS
from placement.matching.problem import problem_of
from placement.matching.rank import rank
from placement.matching.schema import Instance, encode, read_instance
from placement.matching.solve import batch_result, solve_batch, values
from placement.matching.synthetic import generate
from placement.reference.geography import massachusetts_places

METHODS = ("engine", "greedy", "relaxed")
DEFAULT_SIZES = "500x5000,2000x10000,2000x1000"


@dataclass(frozen=True, slots=True)
class Case:
    youth: int
    targets: int
    scarce: bool
    seed: int

    @property
    def name(self) -> str:
        variant = "scarce" if self.scarce else "normal"
        return f"{self.youth}x{self.targets}-{variant}-s{self.seed}"

    def instance(self) -> Instance:
        return generate(massachusetts_places(), self.youth, self.targets, scarce=self.scarce, seed=self.seed)


def cases(sizes: str, variants: str, seeds: str) -> list[Case]:
    """The bench's cases: each size, in each variant (``normal``, ``scarce`` or ``both``), with
    each seed."""
    kinds = [False, True] if variants == "both" else [variants == "scarce"]
    return [
        Case(y, t, scarce, int(seed))
        for y, t in _parse_sizes(sizes)
        for scarce in kinds
        for seed in seeds.split(",")
    ]


class Measured(msgspec.Struct, frozen=True, kw_only=True):
    method: str
    seconds: float
    peak_mib: float
    placed: int
    priority: int
    score: int
    objective: int
    bound: int | None
    """The engine's proven bound; the relaxed optimum (a bound on every plan); None for greedy."""
    status: str


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(method: str, path: str, effort: float, seconds: float) -> bytes:
    """Run one method on a saved instance (in a fresh process); the measurement as JSON. The
    engine's result is saved beside the instance."""
    instance = read_instance(Path(path))
    started = time.perf_counter()
    problem = problem_of(instance)
    if method == "engine":
        batch = solve_batch(problem, effort=effort, seconds=seconds)
    elif method == "greedy":
        batch = batch_result(problem, values(problem), greedy_by_urgency(problem), 0, 0.0)
    else:
        v, pairs = values(problem), problem.pairs
        assigned, _ = assign(len(problem.youth), problem.targets.capacity, pairs.y, pairs.t, v.w)
        batch = batch_result(problem, v, assigned, 0, 0.0)
    elapsed = time.perf_counter() - started
    if method == "engine":
        Path(path.replace(".instance.json", ".result.json")).write_bytes(encode(batch))
    return msgspec.json.encode(
        Measured(
            method=method,
            seconds=elapsed,
            peak_mib=round(_peak_mib(), 1),
            placed=batch.placed,
            priority=batch.priority,
            score=batch.score,
            objective=batch.objective,
            bound={"engine": batch.bound, "relaxed": batch.objective}.get(method),
            status={"engine": batch.status, "relaxed": "bound"}.get(method, "-"),
        )
    )


def _in_fresh_process(method: str, path: Path, effort: float, seconds: float) -> Measured:
    context = mp.get_context("spawn")
    with context.Pool(1) as pool:
        raw = pool.apply(_measure, (method, str(path), effort, seconds))
    return msgspec.json.decode(raw, type=Measured)


def _rank_bench(n_targets: int, repeats: int, seed: int) -> tuple[float, float, float]:
    """(compile ms, median ms, p95 ms) of ranking one youth against ``n_targets`` targets."""
    instance = generate(massachusetts_places(), repeats, n_targets, scarce=False, seed=seed)
    started = time.perf_counter()
    targets = compile_targets(instance.targets, instance.reference_date)
    compiled = (time.perf_counter() - started) * 1000
    times = []
    for youth in instance.youth:
        started = time.perf_counter()
        rank([youth], targets, instance.weights)
        times.append((time.perf_counter() - started) * 1000)
    return compiled, statistics.median(times), float(np.percentile(times, 95))


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    try:
        return [(int(y), int(t)) for y, t in (item.lower().split("x") for item in text.split(","))]
    except ValueError as error:
        raise click.BadParameter("sizes look like 500x5000,2000x10000") from error


HEADER = (
    f"{'case':<22} {'method':<7} {'seconds':>7} {'x relaxed':>9} {'peak MiB':>8} {'placed':>6} "
    f"{'priority':>8} {'score':>7} {'objective':>13} {'bound':>13} {'gap':>8} {'status':>12}"
)


def _row(case: str, m: Measured, best: int, relaxed_seconds: float) -> str:
    """One method's figures; its gap is to ``best``, the least bound of the case."""
    gap = (best - m.objective) / best if best > 0 else 0.0
    bound = "-" if m.bound is None else str(m.bound)
    return (
        f"{case:<22} {m.method:<7} {m.seconds:>7.2f} {m.seconds / relaxed_seconds:>9.2f} "
        f"{m.peak_mib:>8.0f} {m.placed:>6} {m.priority:>8} {m.score:>7} {m.objective:>13} {bound:>13} "
        f"{gap:>8.1e} {m.status:>12}"
    )


@click.command("match")
@click.option(
    "--sizes",
    default=DEFAULT_SIZES,
    show_default=True,
    help="Comma-separated YOUTHxTARGETS.",
)
@click.option(
    "--variants", type=click.Choice(["normal", "scarce", "both"]), default="both", show_default=True
)
@click.option("--seeds", default="1", show_default=True, help="Comma-separated seeds.")
@click.option(
    "--effort",
    type=float,
    default=DEFAULT_EFFORT,
    show_default=True,
    help="The engine's deterministic budget (CP-SAT's deterministic time, flows charged to it).",
)
@click.option(
    "--seconds",
    type=float,
    default=DEFAULT_SECONDS,
    show_default=True,
    help="The engine's wall-clock cap, a safety net (status time_limit when it binds).",
)
@click.option("--rank-targets", type=int, default=10_000, show_default=True)
@click.option(
    "--rank-repeats", type=int, default=200, show_default=True, help="Youth ranked one by one (0: skip)."
)
@click.option(
    "--save",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each instance and result as JSON here.",
)
def match_bench(
    sizes: str,
    variants: str,
    seeds: str,
    effort: float,
    seconds: float,
    rank_targets: int,
    rank_repeats: int,
    save: Path | None,
) -> None:
    """Solve generated statewide instances with the engine, a greedy baseline and the relaxed
    upper bound; print time (and as a multiple of the relaxed flow's), peak memory, placed youth,
    weighted priority, score, objective, bound, gap to the best bound, and status."""
    if rank_repeats > 0:
        compiled, median, p95 = _rank_bench(rank_targets, rank_repeats, seed=1)
        click.echo(
            f"rank 1 youth x {rank_targets} targets: median {median:.2f} ms, p95 {p95:.2f} ms "
            f"({rank_repeats} youth; compiling the targets once: {compiled:.0f} ms)"
        )
    click.echo(HEADER)
    with TemporaryDirectory() as scratch:
        folder = save or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for case in cases(sizes, variants, seeds):
            path = folder / f"{case.name}.instance.json"
            path.write_bytes(encode(case.instance()))
            measured = {m: _in_fresh_process(m, path, effort, seconds) for m in METHODS}
            best = min(m.bound for m in measured.values() if m.bound is not None)
            for m in measured.values():
                click.echo(_row(case.name, m, best, measured["relaxed"].seconds))
