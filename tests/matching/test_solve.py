"""Batch solving: feasible, siblings together or not at all, optimal on small cases, and
reproducible."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import date
from typing import Any

import msgspec
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from placement.matching.greedy import greedy_by_urgency
from placement.matching.problem import Problem, problem_of
from placement.matching.schema import Batch, Instance, Target
from placement.matching.solve import batch_result, solve_batch, values
from placement.matching.synthetic import generate
from tests.matching.conftest import km_north, make_instance, make_target, make_youth

PLACES = [
    type("Place", (), {"name": n, "region": r, "lat": la, "lon": lo})()
    for n, r, la, lo in (
        ("Boston", "Boston", 42.36, -71.06),
        ("Lowell", "Northern", 42.63, -71.32),
        ("Worcester", "Central", 42.26, -71.80),
        ("Springfield", "Western", 42.10, -72.59),
        ("Brockton", "Southern", 42.08, -71.02),
    )
]


def check_feasible(problem: Problem, batch: Batch) -> None:
    """Every placement is a feasible pair, no target over capacity, no youth twice, and each
    sibling group wholly placed at one site or not at all."""
    youth, targets = problem.youth, problem.targets
    ys = np.array([youth.index[a.youth_id] for a in batch.assignments], dtype=np.int32)
    ts = np.array([targets.index[a.target_id] for a in batch.assignments], dtype=np.int32)
    problem.pairs.find(ys, ts)  # raises unless every pair is feasible
    assert len(set(ys.tolist())) == len(ys)
    assert (np.bincount(ts, minlength=len(targets)) <= targets.capacity).all()
    where = dict(zip(ys.tolist(), ts.tolist(), strict=True))
    for g in range(len(youth.group_ids)):
        placed = [where[m] for m in np.flatnonzero(youth.group == g).tolist() if m in where]
        assert len(placed) in (0, int((youth.group == g).sum()))
        assert len({int(targets.site[t]) for t in placed}) <= 1
    assert batch.objective <= batch.bound
    assert batch.placed + len(batch.unplaced) == len(youth)


def brute_force(problem: Problem) -> tuple[int, int]:
    """The best (priority, score) over every assignment, lexicographically."""
    pairs, youth, targets = problem.pairs, problem.youth, problem.targets
    score = {(int(y), int(t)): int(s) for y, t, s in zip(pairs.y, pairs.t, pairs.score, strict=True)}
    units: list[list[tuple[tuple[int, int], ...]]] = []
    for g in [-1, *range(len(youth.group_ids))]:
        members = [i for i in range(len(youth)) if youth.group[i] == g]
        if g < 0:
            units += [[(), *(((y, t),) for (yy, t) in score if yy == y)] for y in members]
            continue
        options: list[tuple[tuple[int, int], ...]] = [()]
        for beds in itertools.permutations(range(len(targets)), len(members)):
            sites = {int(targets.site[t]) for t in beds}
            if len(sites) == 1 and all((m, t) in score for m, t in zip(members, beds, strict=True)):
                options.append(tuple(zip(members, beds, strict=True)))
        for t in range(len(targets)):
            if not targets.is_bed[t] and all((m, t) in score for m in members):
                options.append(tuple((m, t) for m in members))
        units.append(options)
    best = (0, 0)
    base = problem.weights.urgency_base
    for choice in itertools.product(*units):
        placed = [pair for option in choice for pair in option]
        used = Counter(t for _, t in placed)
        if any(n > targets.capacity[t] for t, n in used.items()):
            continue
        value = (
            sum(base + int(youth.urgency[y]) for y, _ in placed),
            sum(score[pair] for pair in placed),
        )
        best = max(best, value)
    return best


@st.composite
def small_instances(draw: st.DrawFn) -> Instance:
    n_youth = draw(st.integers(1, 5))
    n_targets = draw(st.integers(1, 5))
    siblings = draw(st.integers(0, min(3, n_youth)))
    youth = [
        make_youth(
            f"y{i}",
            gender=draw(st.sampled_from(["female", "male"])),
            date_of_birth=date(2025 - draw(st.integers(11, 18)), 1, 1),
            urgency=draw(st.integers(1, 5)),
            max_distance_km=draw(st.sampled_from([8.0, 30.0])),
            sibling_group="g" if i < siblings and siblings > 1 else None,
            languages=draw(st.sampled_from([("en",), ("es",)])),
        )
        for i in range(n_youth)
    ]
    targets: list[Target] = []
    for i in range(n_targets):
        lat, lon = km_north(draw(st.sampled_from([2.0, 6.0, 20.0])))
        common: dict[str, Any] = {
            "lat": lat,
            "lon": lon,
            "genders": draw(st.sampled_from([("female",), ("male",), ("female", "male")])),
            "languages": draw(st.sampled_from([("en",), ("es",)])),
            "min_age": draw(st.sampled_from([10, 14])),
        }
        if draw(st.booleans()):
            house = draw(st.sampled_from(["sh1", "sh2"]))
            targets.append(make_target(f"t{i}", kind="safe_house_bed", safe_house_id=house, **common))
        else:
            targets.append(
                make_target(
                    f"t{i}",
                    capacity=draw(st.integers(1, 3)),
                    takes_sibling_groups=draw(st.booleans()),
                    **common,
                )
            )
    return make_instance(youth, targets)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_engine_objective_equals_brute_force_optimum(instance: Instance) -> None:
    problem = problem_of(instance)
    batch = solve_batch(problem)
    check_feasible(problem, batch)
    assert (batch.priority, batch.score) == brute_force(problem)
    assert batch.status == "optimal"


def shuffled(instance: Instance, seed: int) -> Instance:
    rng = random.Random(seed)
    youth, targets = list(instance.youth), list(instance.targets)
    rng.shuffle(youth)
    rng.shuffle(targets)
    return make_instance(youth, targets)


def test_same_answer_whatever_the_order() -> None:
    instance = generate(PLACES, 120, 300, scarce=True, seed=7)
    first = solve_batch(problem_of(instance))
    for seed in (1, 2):
        again = solve_batch(problem_of(shuffled(instance, seed)))
        assert again.assignments == first.assignments
        assert (again.objective, again.bound) == (first.objective, first.bound)


def test_generated_instances_are_solved_feasibly_and_beat_greedy() -> None:
    for scarce in (False, True):
        instance = generate(PLACES, 300, 500, scarce=scarce, seed=3)
        problem = problem_of(instance)
        batch = solve_batch(problem)
        check_feasible(problem, batch)
        greedy = batch_result(problem, values(problem), greedy_by_urgency(problem), 0, 0.0)
        check_feasible(problem, msgspec.structs.replace(greedy, bound=greedy.objective))
        assert batch.objective >= greedy.objective
        assert batch.status == "optimal"


def test_sibling_group_is_placed_together_or_not_at_all() -> None:
    siblings = [make_youth(f"s{i}", sibling_group="g", urgency=5) for i in range(3)]
    loner = make_youth("y9", urgency=1)
    # two homes with room for two each: the group fits in neither, the loner in both
    homes = [make_target(f"h{i}", capacity=2, takes_sibling_groups=True) for i in range(2)]
    batch = solve_batch(problem_of(make_instance([*siblings, loner], homes)))
    assert [a.youth_id for a in batch.assignments] == ["y9"]
    assert batch.status == "optimal"


def test_sibling_group_shares_one_safe_house() -> None:
    siblings = [make_youth(f"s{i}", sibling_group="g") for i in range(2)]
    beds = [
        make_target("a1", kind="safe_house_bed", safe_house_id="A"),
        make_target("b1", kind="safe_house_bed", safe_house_id="B"),
        make_target("b2", kind="safe_house_bed", safe_house_id="B"),
    ]
    batch = solve_batch(problem_of(make_instance(siblings, beds)))
    assert sorted(a.target_id for a in batch.assignments) == ["b1", "b2"]


def test_urgent_youth_takes_the_only_place_and_two_beat_one() -> None:
    calm, urgent = make_youth("a", urgency=1), make_youth("b", urgency=5)
    batch = solve_batch(problem_of(make_instance([calm, urgent], [make_target()])))
    assert [a.youth_id for a in batch.assignments] == ["b"]
    # two youth of urgency 1 outweigh one of urgency 5 (urgency_base 4: 10 > 9)
    both = make_target("t2", capacity=2, lat=km_north(3.0)[0])
    far = make_target("t3", lat=km_north(1.0)[0], genders=("male",))
    youth = [make_youth("a", urgency=1), make_youth("c", urgency=1), urgent]
    batch = solve_batch(problem_of(make_instance(youth, [both, far])))
    assert batch.placed == 2


def test_capacity_is_never_exceeded() -> None:
    youth = [make_youth(f"y{i}") for i in range(6)]
    batch = solve_batch(problem_of(make_instance(youth, [make_target(capacity=2)])))
    assert batch.placed == 2
    assert len(batch.unplaced) == 4


def test_youth_without_any_feasible_target_is_explained() -> None:
    stuck = make_youth("y0", gender="male")
    batch = solve_batch(problem_of(make_instance([stuck], [make_target(genders=("female",))])))
    assert batch.unplaced == ("y0",)
    (why,) = batch.no_match
    assert {c.rule: c.failed for c in why.rule_counts}["gender"] == 1


def test_youth_and_targets_can_be_empty() -> None:
    assert solve_batch(problem_of(make_instance([], [make_target()]))).placed == 0
    batch = solve_batch(problem_of(make_instance([make_youth()], [])))
    assert batch.unplaced == ("y1",)


def test_no_pair_is_lost_between_flow_and_result() -> None:
    instance = generate(PLACES, 80, 150, scarce=False, seed=11)
    problem = problem_of(instance)
    batch = solve_batch(problem)
    by_id = {a.youth_id: a for a in batch.assignments}
    y = np.array([problem.youth.index[i] for i in by_id], dtype=np.int32)
    t = np.array([problem.targets.index[a.target_id] for a in by_id.values()], dtype=np.int32)
    found = problem.pairs.find(y, t)
    assert [int(s) for s in problem.pairs.score[found]] == [a.score for a in by_id.values()]
