"""Cut short by the wall clock or by the budget, a batch keeps a bound that bounds, is never worse
than the greedy baseline, and says what stopped it; below its cap, the clock changes nothing."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from placement.bench.match import DEFAULT_SIZES, cases
from placement.matching.greedy import greedy_by_urgency
from placement.matching.problem import Problem, problem_of
from placement.matching.schema import Batch, Instance
from placement.matching.solve import batch_result, solve_batch, values
from placement.matching.synthetic import generate
from tests.matching.test_solve import PLACES, brute_force, check_feasible, small_instances

CAPS: list[dict[str, Any]] = [
    {"seconds": 0.0},
    {"seconds": 0.01},
    {"seconds": 0.3},
    {"effort": 0.001},
    {"effort": 0.05},
]
BENCH_CAPS = CAPS[1:4]
"""Fewer for the bench's instances, which take seconds each: at their sizes a 0.01 s cap already
stops the solve before its first site choice, as 0 s does."""


@dataclass(frozen=True)
class Reference:
    """An instance, its greedy objective, and the objective solved without a cap (the optimum
    when proven; else at most the optimum)."""

    instance: Instance
    problem: Problem
    greedy: int
    uncapped: Batch


def reference(instance: Instance) -> Reference:
    problem = problem_of(instance)
    greedy = batch_result(problem, values(problem), greedy_by_urgency(problem), 0, 0.0).objective
    return Reference(instance, problem, greedy, solve_batch(problem, seconds=3600.0))


def assert_cut_short_well(ref: Reference, batch: Batch) -> None:
    check_feasible(ref.problem, batch)
    assert batch.bound >= ref.uncapped.objective
    assert ref.greedy <= batch.objective <= batch.bound
    assert (batch.status == "optimal") == (batch.objective == batch.bound)


@pytest.fixture(scope="module", params=cases(DEFAULT_SIZES, "both", "1"), ids=lambda case: case.name)
def bench_instance(request: pytest.FixtureRequest) -> Reference:
    return reference(request.param.instance())


@pytest.mark.slow
@pytest.mark.parametrize("cap", BENCH_CAPS, ids=lambda cap: "-".join(f"{k}={v}" for k, v in cap.items()))
def test_every_bench_instance_cut_short_keeps_its_bound_and_beats_greedy(
    bench_instance: Reference, cap: dict[str, Any]
) -> None:
    assert_cut_short_well(bench_instance, solve_batch(bench_instance.problem, **cap))


@pytest.mark.parametrize("seed", range(6))
def test_random_instances_cut_short_keep_their_bound_and_beat_greedy(seed: int) -> None:
    ref = reference(generate(PLACES, 150 + 50 * seed, 300, scarce=seed % 2 == 1, seed=seed))
    for cap in CAPS:
        assert_cut_short_well(ref, solve_batch(ref.problem, **cap))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_a_solve_out_of_time_at_once_still_bounds_the_enumerated_optimum(instance: Instance) -> None:
    problem = problem_of(instance)
    batch = solve_batch(problem, seconds=0.0)
    priority, score = brute_force(problem)
    greedy = batch_result(problem, values(problem), greedy_by_urgency(problem), 0, 0.0)
    assert greedy.objective <= batch.objective <= priority * batch.scale + score <= batch.bound
    assert batch.status in ("optimal", "time_limit")


def test_the_clock_cutting_a_solve_short_says_so() -> None:
    ref = reference(generate(PLACES, 300, 500, scarce=True, seed=3))
    assert ref.uncapped.status == "optimal"
    batch = solve_batch(ref.problem, seconds=0.0)
    assert batch.status == "time_limit"
    assert_cut_short_well(ref, batch)


def test_the_budget_ends_the_search_the_same_way_every_time() -> None:
    problem = problem_of(generate(PLACES, 600, 900, scarce=True, seed=4))
    first = solve_batch(problem, effort=0.1)
    assert first.status == "effort_limit"
    for _ in range(2):
        again = solve_batch(problem, effort=0.1)
        assert (again.assignments, again.objective, again.bound) == (
            first.assignments,
            first.objective,
            first.bound,
        )


def test_below_its_cap_a_slow_clock_changes_no_answer() -> None:
    """A clock that reads a quarter of a second later every time it is read: the solve of a machine
    far slower than this one, still within the default cap."""
    problem = problem_of(generate(PLACES, 600, 900, scarce=True, seed=4))
    slow = itertools.count(step=0.25).__next__
    for effort in (0.1, 1.0):
        here = solve_batch(problem, effort=effort)
        there = solve_batch(problem, effort=effort, clock=lambda: float(slow()))
        assert there.status != "time_limit"
        assert (there.status, there.assignments, there.objective, there.bound) == (
            here.status,
            here.assignments,
            here.objective,
            here.bound,
        )
