"""What-if scenarios: the data they change, and whom the engine then places, in counts."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from placement.capacity.scenarios import NEW_SITE_ID, NewBeds, Reopening, Scenario, Training, apply
from placement.capacity.whatif import (
    Changes,
    Placed,
    RegionPlaced,
    Transition,
    UrgencyPlaced,
    WhatIfAnswer,
    compare,
    solve_jointly,
    what_if,
)
from placement.matching.schema import Instance, Target, Youth
from tests.matching.conftest import km_north, make_instance, make_target, make_youth

NORTH = km_north(100.0)  # a Northern town, beyond every Boston youth's 50 km
NEAR_NORTH = km_north(103.0)
EFFORT, SECONDS = 1.0, 30.0


def northern_youth(id: str, **fields: Any) -> Youth:
    return make_youth(id, region="Northern", origin_lat=NORTH[0], origin_lon=NORTH[1], **fields)


def northern_home(id: str, **fields: Any) -> Target:
    return make_target(id, region="Northern", lat=NEAR_NORTH[0], lon=NEAR_NORTH[1], **fields)


def beds_near_boston(n: int) -> NewBeds:
    lat, lon = km_north(3.0)
    return NewBeds(beds=n, lat=lat, lon=lon, region="Boston", min_age=11, max_age=18, genders=("female",))


def run(instance: Instance, scenario: Scenario) -> WhatIfAnswer:
    return what_if(instance, scenario, EFFORT, SECONDS)


def test_training_a_region_places_its_specialised_care_youth_and_no_other_regions() -> None:
    instance = make_instance(
        [make_youth("yb", specialised_care=True), northern_youth("yn", specialised_care=True)],
        [make_target("hb"), northern_home("hn")],
    )
    answer = run(instance, Scenario(training=Training(region="Boston")))
    assert answer == WhatIfAnswer(
        changes=Changes(households_trained=1, households_reopened=0, beds_added=0),
        status_before="optimal",
        status_after="optimal",
        placed=Placed(awaiting=2, before=0, after=1),
        by_urgency=(UrgencyPlaced(urgency=3, awaiting=2, before=0, after=1),),
        by_region=(
            RegionPlaced(region="Boston", awaiting=1, before=0, after=1),
            RegionPlaced(region="Northern", awaiting=1, before=0, after=0),
        ),
        transitions=(
            Transition(region="Boston", before="specialised_care", after="feasible", youth=1),
            Transition(region="Northern", before="specialised_care", after="specialised_care", youth=1),
        ),
    )


def test_two_new_beds_place_two_of_three_waiting_youth_most_urgent_first() -> None:
    youth = [make_youth("y5", urgency=5), make_youth("y2", urgency=2), make_youth("y4", urgency=4)]
    instance = make_instance(youth, [make_target("full", capacity=0)])
    answer = run(instance, Scenario(new_beds=beds_near_boston(2)))
    assert answer.changes == Changes(households_trained=0, households_reopened=0, beds_added=2)
    assert answer.placed == Placed(awaiting=3, before=0, after=2)
    assert answer.by_urgency == (
        UrgencyPlaced(urgency=2, awaiting=1, before=0, after=0),
        UrgencyPlaced(urgency=4, awaiting=1, before=0, after=1),
        UrgencyPlaced(urgency=5, awaiting=1, before=0, after=1),
    )
    assert answer.transitions == (Transition(region="Boston", before="capacity", after="feasible", youth=3),)


def test_reopening_paused_homes_in_one_region() -> None:
    instance = make_instance(
        [make_youth("yb"), northern_youth("yn")],
        [
            make_target("hb", availability="paused"),
            northern_home("hn1", availability="paused"),
            northern_home("hn2", availability="paused"),
        ],
    )
    answer = run(instance, Scenario(reopening=Reopening(region="Boston")))
    assert answer.changes == Changes(households_trained=0, households_reopened=1, beds_added=0)
    assert answer.by_region == (
        RegionPlaced(region="Boston", awaiting=1, before=0, after=1),
        RegionPlaced(region="Northern", awaiting=1, before=0, after=0),
    )
    assert answer.transitions == (
        Transition(region="Boston", before="availability", after="feasible", youth=1),
        Transition(region="Northern", before="availability", after="availability", youth=1),
    )
    statewide = run(instance, Scenario(reopening=Reopening()))
    assert statewide.changes.households_reopened == 3
    assert statewide.placed == Placed(awaiting=2, before=0, after=2)


def test_a_combined_scenario_places_whom_no_single_change_would() -> None:
    """The Boston youth needs a ready home, and the only one is paused: training alone or
    reopening alone places no one there; both together do, and new beds up north place the other."""
    instance = make_instance(
        [make_youth("yb", specialised_care=True), northern_youth("yn")],
        [make_target("hb", availability="paused")],
    )
    lat, lon = km_north(101.0)
    beds = NewBeds(beds=1, lat=lat, lon=lon, region="Northern", min_age=11, max_age=18, genders=("female",))
    combined = Scenario(training=Training(region="Boston"), new_beds=beds, reopening=Reopening())
    answer = run(instance, combined)
    assert answer.changes == Changes(households_trained=1, households_reopened=1, beds_added=1)
    assert answer.placed == Placed(awaiting=2, before=0, after=2)
    assert answer.transitions == (
        Transition(region="Boston", before="several", after="feasible", youth=1),
        Transition(region="Northern", before="several", after="feasible", youth=1),
    )
    for alone in (Scenario(training=Training(region="Boston")), Scenario(reopening=Reopening())):
        assert run(instance, alone).placed == Placed(awaiting=2, before=0, after=0)


def test_training_readies_the_regions_households_only() -> None:
    targets = [
        make_target("ready", ready_levels=("trafficking_specialized",)),
        make_target("kin", kind="kin", related_youth=("y1",)),
        make_target("bed", kind="safe_house_bed"),
        northern_home("north"),
    ]
    changed = apply(
        make_instance([make_youth()], targets), Scenario(training=Training(region="Boston")), new_site_id="x"
    )
    assert {t.id: t.ready_levels for t in changed.targets} == {
        "ready": ("trafficking_specialized",),
        "kin": ("trafficking_specialized",),
        "bed": (),
        "north": (),
    }


def test_the_input_instance_is_left_as_it_is() -> None:
    instance = make_instance([make_youth()], [make_target("h1", availability="paused"), northern_home("h2")])
    before = msgspec.json.encode(instance)
    scenario = Scenario(
        training=Training(region="Boston"), new_beds=beds_near_boston(3), reopening=Reopening()
    )
    changed = apply(instance, scenario, new_site_id=NEW_SITE_ID)
    assert msgspec.json.encode(instance) == before
    assert len(changed.targets) == 5


def test_new_bed_ids_follow_from_the_site_and_the_count() -> None:
    instance = make_instance([make_youth()], [make_target("h1")])
    scenario = Scenario(new_beds=beds_near_boston(3))
    first = apply(instance, scenario, new_site_id="whatif-house")
    again = apply(instance, scenario, new_site_id="whatif-house")
    assert first == again
    beds = [t for t in first.targets if t.kind == "safe_house_bed"]
    assert [t.id for t in beds] == ["whatif-house-bed-1", "whatif-house-bed-2", "whatif-house-bed-3"]
    lat, lon = km_north(3.0)
    assert all(
        (t.safe_house_id, t.capacity, t.availability, t.lat, t.lon, t.area_lat, t.area_lon)
        == ("whatif-house", 1, "open", lat, lon, lat, lon)
        for t in beds
    )


def test_a_new_site_must_not_be_an_existing_safe_house() -> None:
    instance = make_instance([make_youth()], [make_target("b1", kind="safe_house_bed")])  # of sh1
    with pytest.raises(ValueError, match="sh1"):
        apply(instance, Scenario(new_beds=beds_near_boston(1)), new_site_id="sh1")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reopening": {}, "extra": 1},
        {"training": {"region": "Boston", "level": "expert"}},
        {"new_beds": {"beds": 501, "lat": 42.0, "lon": -71.0, "region": "Boston", "min_age": 11,
                      "max_age": 18, "genders": ["female"]}},
        {"new_beds": {"beds": 2, "lat": 42.0, "lon": -71.0, "region": "Boston", "min_age": 18,
                      "max_age": 11, "genders": ["female"]}},
        {"new_beds": {"beds": 2, "lat": 42.0, "lon": -71.0, "region": "Boston", "min_age": 11,
                      "max_age": 18, "genders": []}},
    ],
)  # fmt: skip
def test_a_scenario_body_is_refused_when_it_changes_nothing_or_is_out_of_bounds(body: object) -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(body), type=Scenario)


def test_what_if_crosses_a_process_boundary_as_json() -> None:
    instance = make_instance([make_youth()], [make_target("h1", availability="paused")])
    scenario = Scenario(reopening=Reopening())
    answer = run(
        *msgspec.json.decode(msgspec.json.encode((instance, scenario)), type=tuple[Instance, Scenario])
    )
    assert msgspec.json.decode(msgspec.json.encode(answer), type=WhatIfAnswer) == answer


def test_compare_refuses_different_youth() -> None:
    one = make_instance([make_youth("y1")], [make_target("h1")])
    other = make_instance([make_youth("y2")], [make_target("h1")])
    with pytest.raises(ValueError, match="same youth"):
        compare(one, other, solve_jointly(one, EFFORT, SECONDS), solve_jointly(other, EFFORT, SECONDS))
