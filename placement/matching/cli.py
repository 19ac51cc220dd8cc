"""`placement match`: solve a saved instance, or explain one pair of it, offline.

The engine is imported by the command that runs: listing these commands loads neither NumPy nor
OR-Tools, and ranking does not load OR-Tools.
"""

from __future__ import annotations

from pathlib import Path

import click
import msgspec

from placement.matching.limits import DEFAULT_EFFORT, DEFAULT_PROPOSALS, DEFAULT_SECONDS
from placement.matching.schema import Instance, Result, WhyNot, encode, read_instance

MODES = ("auto", "rank", "batch")


def solve_instance(
    instance: Instance,
    *,
    mode: str = "auto",
    limit: int = DEFAULT_PROPOSALS,
    banded: bool = False,
    effort: float = DEFAULT_EFFORT,
    seconds: float = DEFAULT_SECONDS,
) -> Result:
    """Rank proposals for one youth or one sibling group; place any other set jointly."""
    groups = {y.sibling_group for y in instance.youth}
    one_unit = len(instance.youth) == 1 or (len(groups) == 1 and None not in groups)
    if mode == "rank" or (mode == "auto" and one_unit):
        from placement.matching.arrays import compile_targets
        from placement.matching.rank import rank

        targets = compile_targets(instance.targets, instance.reference_date)
        return rank(instance.youth, targets, instance.weights, limit=limit, banded=banded)
    from placement.matching.problem import problem_of
    from placement.matching.solve import solve_batch

    return solve_batch(problem_of(instance), effort=effort, seconds=seconds, banded=banded)


def _read(path: Path) -> Instance:
    try:
        return read_instance(path)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise click.ClickException(f"{path}: {error}") from error


@click.group("match")
def match_group() -> None:
    """Solve and explain saved matching instances (see placement/matching/README.md)."""


@match_group.command("solve")
@click.argument("instance", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write JSON here.")
@click.option(
    "--mode",
    type=click.Choice(MODES),
    default="auto",
    show_default=True,
    help="rank: proposals for one youth or sibling group; batch: joint assignment.",
)
@click.option(
    "--limit", type=click.IntRange(1), default=DEFAULT_PROPOSALS, show_default=True, help="Proposals to rank."
)
@click.option("--banded", is_flag=True, help="Distances in bands in explanations.")
@click.option(
    "--effort",
    type=click.FloatRange(0.01),
    default=DEFAULT_EFFORT,
    show_default=True,
    help="Deterministic budget (CP-SAT's deterministic time, flows charged to it): decides the answer.",
)
@click.option(
    "--seconds",
    type=click.FloatRange(0.1),
    default=DEFAULT_SECONDS,
    show_default=True,
    help="Wall-clock cap, a safety net: status time_limit when it binds.",
)
def solve_command(
    instance: Path,
    out: Path | None,
    mode: str,
    limit: int,
    banded: bool,
    effort: float,
    seconds: float,
) -> None:
    """Solve INSTANCE.json: ranked proposals, or a joint assignment with its bound."""
    try:
        result = solve_instance(
            _read(instance), mode=mode, limit=limit, banded=banded, effort=effort, seconds=seconds
        )
    except ValueError as wrong:  # e.g. --mode rank on several youth
        raise click.UsageError(str(wrong)) from None
    if out is None:
        click.echo(encode(result).decode(), nl=False)
    else:
        out.write_bytes(encode(result))


@match_group.command("why-not")
@click.argument("instance", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--youth", "youth_id", required=True, help="Youth id.")
@click.option("--target", "target_id", required=True, help="Target id (bed or household).")
@click.option("--banded", is_flag=True, help="Distances in bands, not exact.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
def why_not_command(instance: Path, youth_id: str, target_id: str, banded: bool, as_json: bool) -> None:
    """Why YOUTH is or is not proposed TARGET: the rules it fails, or its score and rank."""
    from placement.matching.arrays import compile_targets, compile_youth
    from placement.matching.explain import why_not

    data = _read(instance)
    targets = compile_targets(data.targets, data.reference_date)
    youth = compile_youth(data.youth, targets)
    try:
        answer = why_not(youth, targets, data.weights, youth_id, target_id, banded=banded)
    except KeyError as error:
        raise click.ClickException(str(error.args[0])) from error
    click.echo(encode(answer).decode() if as_json else describe(answer), nl=not as_json)


def describe(answer: WhyNot) -> str:
    """The explanation in a few lines of text."""
    head = f"{answer.youth_id} -> {answer.target_id}: "
    if not answer.feasible:
        return "\n".join([head + "not feasible"] + [f"  {f.rule}: {f.detail}" for f in answer.failures])
    assert answer.terms is not None
    terms = ", ".join(f"{name} {value:+d}" for name, value in msgspec.structs.asdict(answer.terms).items())
    lines = [
        head + f"feasible, score {answer.score} ({terms}), rank {answer.rank} of {answer.feasible_count}"
    ]
    lines += [f"  beaten by {a.target_id} (score {a.score})" for a in answer.beaten_by]
    return "\n".join(lines)
