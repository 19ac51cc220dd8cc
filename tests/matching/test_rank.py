"""Ranking one youth or one sibling group, and the score's breakdown."""

from __future__ import annotations

from datetime import date

import pytest

from placement.matching.arrays import compile_targets
from placement.matching.rank import rank
from placement.matching.schema import ScoreTerms
from placement.matching.weights import Weights
from tests.matching.conftest import DAY, km_north, make_target, make_youth


def test_proposals_rank_by_score_then_id() -> None:
    near = make_target("z-near", lat=km_north(1.0)[0])
    tie_a = make_target("b-tie")
    tie_b = make_target("a-tie")
    targets = compile_targets([near, tie_a, tie_b], DAY)
    ranking = rank([make_youth()], targets, Weights())
    assert [p.assignments[0].target_id for p in ranking.proposals] == ["z-near", "a-tie", "b-tie"]
    assert [p.rank for p in ranking.proposals] == [1, 2, 3]
    assert ranking.no_match == ()


def test_score_terms_add_up_and_follow_the_weights() -> None:
    home = make_target(
        services=("education", "medical"),
        ready_levels=("trafficking_specialized",),
        availability_confirmed_on=date(2025, 1, 1),
        lat=km_north(0.0)[0],
    )
    youth = make_youth(required_services=("education",))
    ranking = rank([youth], compile_targets([home], DAY), Weights())
    (a,) = ranking.proposals[0].assignments
    assert a.terms == ScoreTerms(
        closeness=40,
        extra_services=3,
        readiness=15,
        language=15,
        same_region=10,
        stale_availability=-20,
    )
    assert a.score == a.terms.total == 63


def test_weights_change_the_order() -> None:
    near_stale = make_target("near", lat=km_north(1.0)[0], availability_confirmed_on=None)
    far_fresh = make_target("far", lat=km_north(20.0)[0])
    targets = compile_targets([near_stale, far_fresh], DAY)
    by_default = rank([make_youth()], targets, Weights())
    assert by_default.proposals[0].site_id == "far"
    closeness_first = rank([make_youth()], targets, Weights(closeness=200))
    assert closeness_first.proposals[0].site_id == "near"


def test_sibling_group_gets_sites_for_all_of_them() -> None:
    siblings = [make_youth("s1", sibling_group="g"), make_youth("s2", sibling_group="g")]
    targets = compile_targets(
        [
            make_target("h-small", capacity=1, takes_sibling_groups=True),
            make_target("h-big", capacity=3, takes_sibling_groups=True),
            make_target("bed-1", kind="safe_house_bed"),
            make_target("bed-2", kind="safe_house_bed", lat=km_north(2.0)[0]),
        ],
        DAY,
    )
    ranking = rank(siblings, targets, Weights())
    sites = {p.site_id: [a.target_id for a in p.assignments] for p in ranking.proposals}
    assert sites == {"h-big": ["h-big", "h-big"], "sh1": ["bed-2", "bed-1"]} or sites == {
        "h-big": ["h-big", "h-big"],
        "sh1": ["bed-1", "bed-2"],
    }
    assert all(p.score == sum(a.score for a in p.assignments) for p in ranking.proposals)


def test_sibling_group_without_a_shared_site_is_explained() -> None:
    siblings = [make_youth("s1", sibling_group="g"), make_youth("s2", sibling_group="g")]
    targets = compile_targets([make_target("h", capacity=1)], DAY)
    ranking = rank(siblings, targets, Weights())
    assert ranking.proposals == ()
    assert [n.youth_id for n in ranking.no_match] == ["s1", "s2"]
    assert all(n.rule_counts for n in ranking.no_match)


def test_rank_refuses_youth_of_different_units() -> None:
    targets = compile_targets([make_target()], DAY)
    with pytest.raises(ValueError, match="one youth"):
        rank([make_youth("a"), make_youth("b")], targets, Weights())
