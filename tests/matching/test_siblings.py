"""The groups' site choice under Benders cuts, and settling from any plan: the bounds they give
hold."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from placement.matching.flow import best_surplus, relaxed_solution
from placement.matching.groups import GroupOption, all_group_options
from placement.matching.limits import Deadline
from placement.matching.problem import problem_of
from placement.matching.schema import Instance
from placement.matching.settle import Plan, lagrangian, settle
from placement.matching.siblings import SiteMaster
from placement.matching.solve import values
from placement.matching.synthetic import generate
from tests.matching.test_solve import PLACES, brute_force, small_instances


def option(group: int, members: tuple[int, ...], score: int) -> GroupOption:
    return GroupOption(group, 0, members, (0,) * len(members), score, in_beds=False)


def test_site_master_takes_the_best_sites_then_proves_nothing_beats_them() -> None:
    # two groups of two, one household with room for one of them
    options = [[option(0, (0, 1), 10)], [option(1, (2, 3), 7)]]
    master = SiteMaster(options, np.array([2]), ceiling=100)
    master.cut(5, [[10], [7]])
    first = master.propose(-1, effort=1.0, deadline=Deadline(5.0))
    assert first.sites == [options[0][0], None]
    assert first.bound == 15
    again = master.propose(15, effort=1.0, deadline=Deadline(5.0))
    assert again.sites is None
    assert again.bound == 15


def test_a_tighter_cut_lowers_the_bound() -> None:
    options = [[option(0, (0, 1), 10)]]
    master = SiteMaster(options, np.array([2]), ceiling=100)
    master.cut(5, [[10]])
    master.cut(8, [[3]])
    proposal = master.propose(-1, effort=1.0, deadline=Deadline(5.0))
    assert proposal.bound == 11  # min(5 + 10, 8 + 3)
    assert proposal.sites == [options[0][0]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_settling_from_the_plan_without_groups_keeps_a_valid_bound(instance: Instance) -> None:
    problem = problem_of(instance)
    v, pairs, capacity = values(problem), problem.pairs, problem.targets.capacity
    individual = problem.youth.group < 0
    flow = relaxed_solution(pairs, v.w, individual, capacity, np.ones(len(pairs), dtype=np.bool_))
    options = all_group_options(problem)
    cuts = [
        lagrangian(problem, v.w, v.worth, individual, options, p) for p in (flow.prices, flow.high_prices)
    ]
    plan = Plan(flow.assigned, flow.value)
    settled, bound = settle(
        problem, v.w, individual, options, plan, min(c.bound for c in cuts), cuts, 1.0, Deadline(5.0)
    )
    priority, score = brute_force(problem)
    assert settled.value >= plan.value
    assert settled.value <= priority * v.scale + score <= bound


def test_best_surplus_is_each_youths_best_priced_pair_or_zero() -> None:
    problem = problem_of(generate(PLACES, 60, 80, scarce=True, seed=5))
    v, pairs = values(problem), problem.pairs
    rng = np.random.default_rng(0)
    prices = rng.integers(0, int(v.w.max()) + 1, len(problem.targets))
    among = rng.random(len(pairs)) < 0.5
    expected = np.zeros(len(problem.youth), dtype=np.int64)
    for k in np.flatnonzero(among):
        y = pairs.y[k]
        expected[y] = max(expected[y], v.w[k] - prices[pairs.t[k]])
    assert np.array_equal(best_surplus(pairs, v.w, prices, among), expected)
    assert (pairs.start[:-1] == pairs.start[1:]).any()
