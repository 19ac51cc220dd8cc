"""A target's area point (its municipality's centre): what caseworkers may learn is measured from
it, while the hard rules keep judging the exact position."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import pytest

import placement.matching
from placement.matching.explain import no_match, why_not
from placement.matching.problem import problem_of
from placement.matching.rank import rank
from placement.matching.schema import Assignment, Instance, Target, read_instance
from placement.matching.score import assignments
from placement.matching.solve import solve_batch
from placement.matching.weights import Weights
from tests.matching.conftest import DangerZone, compiled, km_north, make_instance, make_target, make_youth

EXAMPLE = Path(placement.matching.__file__).parent / "examples" / "small.json"


def in_area(id: str, exact_km: float, area_km: float, **fields: Any) -> Target:
    """A household ``exact_km`` north of Boston in a municipality centred ``area_km`` north."""
    lat, lon = km_north(exact_km)
    area_lat, area_lon = km_north(area_km)
    return make_target(id, lat=lat, lon=lon, area_lat=area_lat, area_lon=area_lon, **fields)


def assignment(instance: Instance, target_id: str, *, banded: bool = False) -> Assignment:
    y, t = compiled(instance)
    ts = np.array([t.index[target_id]], dtype=np.int32)
    (found,) = assignments(y, t, np.zeros(1, dtype=np.int32), ts, instance.weights, banded=banded)
    return found


def test_a_target_names_both_area_coordinates_or_neither() -> None:
    with pytest.raises(ValueError, match="both or neither"):
        make_target(area_lat=42.4)
    data = msgspec.json.decode(EXAMPLE.read_bytes())
    data["targets"][0]["area_lon"] = -71.0
    with pytest.raises(msgspec.ValidationError, match="both or neither"):
        msgspec.json.decode(msgspec.json.encode(data), type=Instance)


def test_targets_in_one_municipality_get_the_same_closeness_and_band_whatever_their_exact_position() -> None:
    instance = make_instance([make_youth()], [in_area("near", 8.0, 12.0), in_area("far", 16.0, 12.0)])
    near, far = assignment(instance, "near"), assignment(instance, "far")
    centre = assignment(make_instance([make_youth()], [make_target("c", lat=km_north(12.0)[0])]), "c")
    assert near.terms == far.terms == centre.terms
    assert near.distance_band == far.distance_band == "10-25 km"
    assert near.distance_km == pytest.approx(8.0, abs=0.05)
    assert far.distance_km == pytest.approx(16.0, abs=0.05)


def test_every_output_of_the_engine_scores_closeness_from_the_area_point() -> None:
    """Ranking, batch and why-not agree: score_terms is the single source of the term."""
    instance = make_instance([make_youth()], [in_area("near", 8.0, 12.0), in_area("far", 16.0, 12.0)])
    y, t = compiled(instance)
    proposals = rank(instance.youth, t, instance.weights).proposals
    (placed,) = solve_batch(problem_of(instance)).assignments
    answer = why_not(y, t, instance.weights, "y1", "far")
    assert [p.score for p in proposals] == [placed.score, answer.score]
    assert {p.assignments[0].terms.closeness for p in proposals} == {placed.terms.closeness}
    assert answer.terms == proposals[1].assignments[0].terms


def test_the_distance_rule_judges_the_exact_position_not_the_area_point() -> None:
    youth = make_youth(max_distance_km=30.0)
    beyond = in_area("beyond", 35.0, 20.0)  # exact beyond the maximum, area point inside
    within = in_area("within", 25.0, 40.0)  # exact inside, area point beyond
    y, t = compiled(make_instance([youth], [beyond, within]))
    assert [f.rule for f in why_not(y, t, Weights(), "y1", "beyond").failures] == ["distance"]
    answer = why_not(y, t, Weights(), "y1", "within")
    assert answer.feasible and answer.terms is not None and answer.terms.closeness == 0
    (placed,) = solve_batch(problem_of(make_instance([youth], [beyond, within]))).assignments
    assert placed.target_id == "within"


def test_a_target_inside_a_danger_zone_is_ruled_out_though_its_area_point_is_outside() -> None:
    zone = DangerZone(lat=km_north(6.0)[0], lon=km_north(6.0)[1], radius_km=2.0)
    youth = make_youth(danger_zones=(zone,))
    inside = in_area("inside", 6.5, 12.0)
    y, t = compiled(make_instance([youth], [inside, in_area("outside", 12.0, 6.5)]))
    assert [f.rule for f in why_not(y, t, Weights(), "y1", "inside").failures] == ["danger_zone"]
    assert why_not(y, t, Weights(), "y1", "outside").feasible


def test_a_banded_distance_detail_gives_the_band_of_the_area_distance() -> None:
    y, t = compiled(make_instance([make_youth(max_distance_km=30.0)], [in_area("t1", 35.0, 20.0)]))
    exact = why_not(y, t, Weights(), "y1", "t1").failures[0].detail
    banded = why_not(y, t, Weights(), "y1", "t1", banded=True).failures[0].detail
    (miss,) = no_match(y, t, 0, Weights(), banded=True).near_misses
    assert exact == "distance 35.0 km > maximum 30 km"
    assert banded == miss.failure.detail == "distance 10-25 km > maximum 30 km"


def test_a_banded_danger_zone_detail_gives_the_band_of_the_area_distance() -> None:
    zone = DangerZone(lat=km_north(6.0)[0], lon=km_north(6.0)[1], radius_km=2.0)
    y, t = compiled(make_instance([make_youth(danger_zones=(zone,))], [in_area("t1", 6.5, 12.0)]))
    exact = why_not(y, t, Weights(), "y1", "t1").failures[0].detail
    banded = why_not(y, t, Weights(), "y1", "t1", banded=True).failures[0].detail
    (miss,) = no_match(y, t, 0, Weights(), banded=True).near_misses
    assert exact == "inside danger zone 1: 0.5 km from its centre ≤ radius 2 km"
    assert banded == miss.failure.detail == "inside danger zone 1: 5-10 km from its centre ≤ radius 2 km"


def test_banded_targets_ranked_above_show_only_the_band_of_the_area_distance() -> None:
    targets = [in_area("a", 3.0, 12.0, services=("tutoring",)), in_area("b", 4.0, 12.0)]
    y, t = compiled(make_instance([make_youth()], targets))
    (above,) = why_not(y, t, Weights(), "y1", "b", banded=True).beaten_by
    assert (above.target_id, above.distance_km, above.distance_band) == ("a", None, "10-25 km")


def test_an_area_point_at_the_exact_position_changes_nothing() -> None:
    """Instances without area points score as before: naming the exact position as the area
    point gives the very same batch on the shipped example."""
    instance = read_instance(EXAMPLE)
    same = msgspec.structs.replace(
        instance,
        targets=tuple(
            msgspec.structs.replace(target, area_lat=target.lat, area_lon=target.lon)
            for target in instance.targets
        ),
    )
    plain, named = (
        msgspec.structs.replace(solve_batch(problem_of(i), banded=True), seconds=0.0)
        for i in (instance, same)
    )
    assert plain == named
