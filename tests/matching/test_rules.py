"""Each hard constraint alone excludes exactly the pairs it should."""

from __future__ import annotations

import math
import random
from datetime import date
from typing import Any

import numpy as np
import pytest

from placement.core.geo import distance_km
from placement.matching.explain import rule_failures
from placement.matching.rules import RULE_NAMES
from tests.matching.conftest import (
    BOSTON,
    DangerZone,
    compiled,
    km_north,
    make_instance,
    make_target,
    make_youth,
)

# rule -> (youth y1's fields, target t1's fields) that break it, and which (youth, target) pairs
# of y0, y1 (and y2, y1's sibling, for sibling_room) x t0, t1 then fail it
YOUTH_ONLY = {"age", "services", "specialised_care", "distance", "danger_zone", "sibling_room"}
TARGET_ONLY = {"capacity", "kinship", "availability", "licence"}
BREAKS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "capacity": ({}, {"capacity": 0}),
    "age": ({"date_of_birth": date(2005, 1, 1)}, {}),
    "gender": ({"gender": "male"}, {"genders": ("female",)}),
    "services": ({"required_services": ("medical",)}, {"services": ("education",)}),
    "specialised_care": ({"specialised_care": True}, {}),
    "kinship": ({}, {"kind": "kin"}),
    "distance": ({"max_distance_km": 4.0}, {}),
    "danger_zone": (
        {"danger_zones": (DangerZone(lat=km_north(6)[0], lon=-71.0589, radius_km=2.0),)},
        {},
    ),
    "exclusion": ({"excluded_targets": ("t1",)}, {}),
    "availability": ({}, {"availability": "paused"}),
    "licence": ({}, {"licensed_until": date(2025, 5, 31)}),
    "sibling_room": ({"sibling_group": "g"}, {}),
}


def expected_to_fail(rule: str, youth_id: str, target_id: str) -> bool:
    if rule in YOUTH_ONLY:
        return youth_id in {"y1", "y2"}
    if rule in TARGET_ONLY:
        return target_id == "t1"
    return (youth_id, target_id) == ("y1", "t1")


def test_every_rule_has_a_case() -> None:
    assert set(BREAKS) == set(RULE_NAMES)


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_rule_alone_excludes_exactly_the_pairs_it_should(rule: str) -> None:
    youth_fields, target_fields = BREAKS[rule]
    youth = [make_youth("y0"), make_youth("y1", **youth_fields)]
    if rule == "sibling_room":
        youth.append(make_youth("y2", sibling_group="g"))
    targets = [make_target("t0"), make_target("t1", **target_fields)]
    y, t = compiled(make_instance(youth, targets))
    for i, person in enumerate(y.youth):
        failed = rule_failures(y, t, i)
        expected = np.zeros_like(failed)
        expected[RULE_NAMES.index(rule)] = [
            expected_to_fail(rule, person.id, target.id) for target in t.targets
        ]
        assert (failed == expected).all(), (person.id, failed)


def test_kin_household_takes_its_related_youth() -> None:
    kin = make_target("t1", kind="kin", related_youth=("y1",))
    y, t = compiled(make_instance([make_youth("y0"), make_youth("y1")], [kin]))
    assert rule_failures(y, t, 0)[RULE_NAMES.index("kinship")].tolist() == [True]
    assert not rule_failures(y, t, 1).any()


def test_safe_house_exclusion_excludes_every_bed() -> None:
    beds = [make_target(f"b{i}", kind="safe_house_bed") for i in range(3)]
    other = make_target("b9", kind="safe_house_bed", safe_house_id="sh2")
    youth = make_youth("y0", excluded_safe_houses=("sh1",))
    y, t = compiled(make_instance([youth], [*beds, other]))
    assert rule_failures(y, t, 0)[RULE_NAMES.index("exclusion")].tolist() == [True, True, True, False]


def test_safe_house_counts_as_ready_for_specialised_care() -> None:
    bed = make_target("b0", kind="safe_house_bed")
    trained = make_target("h0", ready_levels=("trafficking_specialized",))
    y, t = compiled(make_instance([make_youth(specialised_care=True)], [bed, trained]))
    assert not rule_failures(y, t, 0).any()


def test_age_is_taken_on_the_reference_date() -> None:
    """Born 2007-06-02: 17 on 2025-06-01, 18 a day later."""
    youth = make_youth(date_of_birth=date(2007, 6, 2))
    y, t = compiled(make_instance([youth], [make_target(max_age=17)]))
    assert not rule_failures(y, t, 0).any()
    older = make_youth(date_of_birth=date(2007, 6, 1))
    y, t = compiled(make_instance([older], [make_target(max_age=17)]))
    assert rule_failures(y, t, 0)[RULE_NAMES.index("age")].all()


def test_unknown_required_service_fails_everywhere() -> None:
    youth = make_youth(required_services=("interpreter",))
    y, t = compiled(make_instance([youth], [make_target(services=("education",))]))
    assert rule_failures(y, t, 0)[RULE_NAMES.index("services")].all()


def test_unlicensed_household_is_excluded_but_beds_need_no_licence() -> None:
    home = make_target("h0", licensed_until=None)
    bed = make_target("b0", kind="safe_house_bed")
    y, t = compiled(make_instance([make_youth()], [bed, home]))
    assert rule_failures(y, t, 0)[RULE_NAMES.index("licence")].tolist() == [False, True]


def test_sibling_group_needs_a_household_that_takes_groups() -> None:
    siblings = [make_youth("y0", sibling_group="g"), make_youth("y1", sibling_group="g")]
    homes = [
        make_target("h0", capacity=2),
        make_target("h1", capacity=2, takes_sibling_groups=True),
        make_target("h2", capacity=1, takes_sibling_groups=True),
    ]
    y, t = compiled(make_instance(siblings, homes))
    assert rule_failures(y, t, 0)[RULE_NAMES.index("sibling_room")].tolist() == [True, False, True]


def test_a_target_exactly_at_the_maximum_distance_is_within_it() -> None:
    """Exactly at the maximum (to round-off) counts as within it, for every bearing tried."""
    rng = random.Random(7)
    for _ in range(200):
        bearing = rng.uniform(0, 2 * math.pi)
        lat = BOSTON[0] + 30 / 111.195 * math.cos(bearing)
        lon = BOSTON[1] + 30 / (111.195 * math.cos(math.radians(BOSTON[0]))) * math.sin(bearing)
        exact = distance_km(BOSTON[0], BOSTON[1], lat, lon)
        instance = make_instance([make_youth(max_distance_km=exact)], [make_target(lat=lat, lon=lon)])
        youth, targets = compiled(instance)
        assert not rule_failures(youth, targets, 0)[:, 0].any(), exact


def test_a_safe_house_named_among_excluded_targets_excludes_its_beds() -> None:
    beds = [make_target(f"b{n}", kind="safe_house_bed") for n in range(2)]
    instance = make_instance([make_youth(excluded_targets=("sh1",))], beds)
    youth, targets = compiled(instance)
    assert rule_failures(youth, targets, 0)[RULE_NAMES.index("exclusion")].all()


def test_a_bed_holds_one_youth() -> None:
    with pytest.raises(ValueError, match="a bed holds one youth"):
        make_target("b1", kind="safe_house_bed", capacity=2)
