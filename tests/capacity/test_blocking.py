"""Unmet need: each youth's feasible targets, the rule that blocks those without, and the counts
by region."""

from __future__ import annotations

from datetime import date

from placement.capacity.blocking import (
    BlockingCount,
    Need,
    ServiceCount,
    UnmetNeed,
    YouthNeed,
    blocking_of,
    unmet_need,
    youth_needs,
)
from placement.matching.problem import problem_of
from placement.matching.schema import Target, Youth
from placement.matching.solve import solve_batch
from placement.matching.synthetic import generate
from tests.matching.conftest import DangerZone, km_north, make_instance, make_target, make_youth
from tests.matching.test_solve import PLACES


def need_of(youth: Youth, targets: list[Target]) -> YouthNeed:
    (need,) = youth_needs(make_instance([youth], targets))
    return need


def test_a_youth_blocked_only_by_capacity() -> None:
    need = need_of(make_youth(), [make_target("t1", capacity=0), make_target("t2", capacity=0)])
    assert (need.feasible, need.blocking, need.missing_services) == (0, "capacity", ())


def test_a_youth_blocked_by_services_and_the_services_missing() -> None:
    person = make_youth(required_services=("medical", "trauma_therapy"))
    targets = [
        make_target("t1", services=("trauma_therapy",)),
        make_target("t2", services=()),
        make_target("t3", services=("education", "trauma_therapy")),
        make_target("t4", services=(), lat=km_north(80.0)[0]),  # fails distance too: not counted
    ]
    need = need_of(person, targets)
    assert (need.feasible, need.blocking) == (0, "services")
    assert need.missing_services == (("medical", 3), ("trauma_therapy", 1))


def test_a_youth_blocked_by_distance() -> None:
    need = need_of(make_youth(max_distance_km=4.0), [make_target("t1"), make_target("t2", capacity=0)])
    assert (need.feasible, need.blocking) == (0, "distance")


def test_a_youth_blocked_by_a_danger_zone() -> None:
    zone = DangerZone(lat=km_north(6.0)[0], lon=-71.0589, radius_km=2.0)
    need = need_of(make_youth(danger_zones=(zone,)), [make_target("t1")])
    assert (need.feasible, need.blocking) == (0, "danger_zone")


def test_every_candidate_failing_two_rules_is_several() -> None:
    targets = [
        make_target("t1", capacity=0, lat=km_north(80.0)[0]),  # capacity and distance
        make_target("t2", genders=("male",), availability="paused"),  # gender and availability
    ]
    need = need_of(make_youth(), targets)
    assert (need.feasible, need.blocking) == (0, "several")


def test_the_rule_failing_alone_at_most_candidates_blocks() -> None:
    targets = [
        make_target("t1", capacity=0),
        make_target("t2", lat=km_north(80.0)[0]),
        make_target("t3", lat=km_north(90.0)[0]),
        make_target("t4", capacity=0, genders=("male",)),  # two rules: counts for neither
    ]
    assert need_of(make_youth(), targets).blocking == "distance"


def test_a_tie_goes_to_the_first_rule_in_the_engines_order() -> None:
    targets = [make_target("t1", lat=km_north(80.0)[0]), make_target("t2", min_age=16)]
    assert need_of(make_youth(), targets).blocking == "age"


def test_a_youth_without_candidates() -> None:
    assert need_of(make_youth(), []).blocking == "no_candidates"


def test_a_youth_with_feasible_targets_is_not_blocked_and_language_never_blocks() -> None:
    person = make_youth(languages=("vi",))
    need = need_of(person, [make_target("t1"), make_target("t2"), make_target("t3", capacity=0)])
    assert (need.feasible, need.blocking, need.missing_services) == (2, None, ())


def test_sibling_group_members_count_on_their_own_pairs() -> None:
    """The elder sister is too old for the one home that takes the group: she is blocked by age,
    her sister counts as having a feasible target, and neither can be placed together."""
    home = make_target("t1", capacity=2, takes_sibling_groups=True)
    sisters = [
        make_youth("y1", sibling_group="g"),
        make_youth("y2", sibling_group="g", date_of_birth=date(2005, 1, 1)),
    ]
    instance = make_instance(sisters, [home, make_target("t2")])
    younger, elder = youth_needs(instance)
    assert (younger.feasible, younger.blocking) == (1, None)  # t2 fails sibling_room
    assert (elder.feasible, elder.blocking) == (0, "age")
    assert solve_batch(problem_of(instance)).placed == 0


def test_counts_by_region_and_statewide() -> None:
    north = km_north(100.0)
    youth = [
        make_youth("a"),
        make_youth("b", required_services=("medical",)),
        make_youth("c", region="Northern", origin_lat=north[0], origin_lon=north[1]),
        make_youth("d", region="Northern", date_of_birth=date(2004, 1, 1)),
        make_youth("e", region="Northern", required_services=("medical", "education")),
    ]
    answer = unmet_need(make_instance(youth, [make_target("t1", services=("education",))]))
    assert answer == UnmetNeed(
        statewide=Need(
            region=None,
            awaiting=5,
            with_feasible_target=1,
            without_feasible_target=4,
            blocking=(
                BlockingCount(rule="services", youth=2),
                BlockingCount(rule="age", youth=1),
                BlockingCount(rule="distance", youth=1),
            ),
            missing_services=(ServiceCount(service="medical", youth=2),),
        ),
        regions=(
            Need(
                region="Boston",
                awaiting=2,
                with_feasible_target=1,
                without_feasible_target=1,
                blocking=(BlockingCount(rule="services", youth=1),),
                missing_services=(ServiceCount(service="medical", youth=1),),
            ),
            Need(
                region="Northern",
                awaiting=3,
                with_feasible_target=0,
                without_feasible_target=3,
                blocking=(
                    BlockingCount(rule="age", youth=1),
                    BlockingCount(rule="distance", youth=1),
                    BlockingCount(rule="services", youth=1),
                ),
                missing_services=(ServiceCount(service="medical", youth=1),),
            ),
        ),
    )


def test_blocking_agrees_with_the_engines_no_match() -> None:
    """The blocking rule of every youth the batch found no feasible target for is the one
    computed here, and those youth are exactly the blocked ones."""
    instance = generate(PLACES, 80, 60, scarce=True, seed=11)
    blocked = {need.youth.id: need.blocking for need in youth_needs(instance) if need.blocking}
    batch = solve_batch(problem_of(instance))
    assert blocked == {no_match.youth_id: blocking_of(no_match) for no_match in batch.no_match}
    assert len(blocked) > 3
