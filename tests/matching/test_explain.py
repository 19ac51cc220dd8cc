"""Explanations agree with feasibility: every proposed pair fails no rule, every excluded pair
fails at least one, and why-not names it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import placement.matching
from placement.matching.arrays import compile_targets, compile_youth
from placement.matching.cli import match_group
from placement.matching.explain import no_match, rule_failures, why_not
from placement.matching.problem import problem_of
from placement.matching.rank import rank
from placement.matching.rules import RULE_NAMES
from placement.matching.schema import Instance
from placement.matching.solve import solve_batch
from placement.matching.synthetic import generate
from placement.matching.weights import Weights
from tests.matching.conftest import compiled, make_instance, make_target, make_youth
from tests.matching.test_solve import PLACES


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_explanations_agree_with_feasibility(seed: int, scarce: bool) -> None:
    instance = generate(PLACES, 12, 40, scarce=scarce, seed=seed)
    problem = problem_of(instance)
    youth, targets = problem.youth, problem.targets
    feasible = set(zip(problem.pairs.y.tolist(), problem.pairs.t.tolist(), strict=True))
    for y in range(len(youth)):
        failed = rule_failures(youth, targets, y)
        for t in range(len(targets)):
            answer = why_not(youth, targets, instance.weights, youth.youth[y].id, targets.targets[t].id)
            if (y, t) not in feasible:  # the pair itself breaks rules: all of them are named
                assert not answer.feasible
                assert {f.rule for f in answer.failures} == {
                    rule for rule, fails in zip(RULE_NAMES, failed[:, t], strict=True) if fails
                }
            elif not answer.feasible:  # the pair fits, but the youth's sibling group cannot stay there
                assert [f.rule for f in answer.failures] == ["siblings_together"]
                assert youth.group[y] >= 0
            assert answer.feasible or answer.failures
    for a in solve_batch(problem).assignments:
        assert why_not(youth, targets, instance.weights, a.youth_id, a.target_id).feasible


def test_proposals_fail_no_rule_and_why_not_ranks_them() -> None:
    instance = generate(PLACES, 5, 60, scarce=False, seed=5)
    targets = compile_targets(instance.targets, instance.reference_date)
    youth = compile_youth(instance.youth, targets)
    for person in instance.youth:
        if person.sibling_group is not None:
            continue
        ranking = rank([person], targets, instance.weights, limit=100)
        for proposal in ranking.proposals:
            (a,) = proposal.assignments
            answer = why_not(youth, targets, instance.weights, a.youth_id, a.target_id)
            assert answer.feasible and answer.rank == proposal.rank
            assert answer.score == a.score == a.terms.total
            just_above = ranking.proposals[max(0, proposal.rank - 6) : proposal.rank - 1]
            assert [b.target_id for b in answer.beaten_by] == [p.assignments[0].target_id for p in just_above]


def test_why_not_gives_the_values_it_compared() -> None:
    far = make_target("t1", lat=42.73)  # about 41 km north of Boston
    y, t = compiled(make_instance([make_youth(max_distance_km=30.0)], [far]))
    answer = why_not(y, t, Weights(), "y1", "t1")
    (failure,) = answer.failures
    assert failure.rule == "distance"
    assert failure.detail == "distance 41.1 km > maximum 30 km"
    banded = why_not(y, t, Weights(), "y1", "t1", banded=True)
    assert banded.failures[0].detail == "distance 25-50 km > maximum 30 km"


def test_a_paused_bed_is_ruled_out_as_a_bed() -> None:
    paused = make_target("b1", kind="safe_house_bed", availability="paused")
    y, t = compiled(make_instance([make_youth()], [paused]))
    (failure,) = why_not(y, t, Weights(), "y1", "b1").failures
    assert (failure.rule, failure.detail) == ("availability", "bed availability is paused")


def test_no_match_counts_rules_and_lists_near_misses() -> None:
    targets = [
        make_target("a", genders=("male",)),
        make_target("b", genders=("male",), capacity=0),
        make_target("c", availability="closed"),
    ]
    y, t = compiled(make_instance([make_youth()], targets))
    answer = no_match(y, t, 0, Weights())
    counts = {c.rule: (c.failed, c.only) for c in answer.rule_counts}
    assert counts["gender"] == (2, 1)
    assert counts["capacity"] == (1, 0)
    assert counts["availability"] == (1, 1)
    assert answer.feasible == 0
    assert sorted(m.target_id for m in answer.near_misses) == ["a", "c"]


def test_proposals_carry_the_band_and_the_exact_distance_only_when_not_banded() -> None:
    instance: Instance = make_instance([make_youth()], [make_target()])
    targets = compile_targets(instance.targets, instance.reference_date)
    (proposal,) = rank(instance.youth, targets, Weights()).proposals
    assert proposal.assignments[0].distance_band == "5-10 km"
    assert proposal.assignments[0].distance_km == pytest.approx(5.0, abs=0.05)
    (banded,) = rank(instance.youth, targets, Weights(), banded=True).proposals
    assert banded.assignments[0].distance_band == "5-10 km"
    assert banded.assignments[0].distance_km is None


def test_banded_output_of_every_command_holds_no_exact_distance(tmp_path: Path) -> None:
    """solve (rank and batch) and why-not, with --banded: no number of kilometres anywhere."""
    example = Path(placement.matching.__file__).parent / "examples" / "small.json"
    runner = CliRunner()
    outputs = [runner.invoke(match_group, ["solve", str(example), "--banded"]).output]
    refused = runner.invoke(match_group, ["solve", str(example), "--mode", "rank"])
    assert refused.exit_code == 2 and "one youth" in refused.output
    data = json.loads(example.read_text())
    for youth in data["youth"][:2]:
        for target in data["targets"][:4]:
            args = [
                "why-not",
                str(example),
                "--youth",
                youth["id"],
                "--target",
                target["id"],
                "--banded",
                "--json",
            ]
            outputs.append(runner.invoke(match_group, args).output)
    for output in outputs:
        assert output.strip()
        assert not re.search(r"\d+\.\d+ km", output), output[:500]
        assert not re.search(r'"distance_km":\s*[0-9]', output), output[:500]


def test_why_not_rules_out_a_home_where_the_sibling_group_cannot_stay_together() -> None:
    """The youth alone fits the household, but her brother does not: solve proposes nothing
    there, and why-not says so, naming the sibling and the rule."""
    sister = make_youth("s0", sibling_group="g")
    brother = make_youth("s1", sibling_group="g", gender="male")
    home = make_target("h1", capacity=2, takes_sibling_groups=True, genders=("female",))
    instance = make_instance([sister, brother], [home])
    youth, targets = compiled(instance)
    answer = why_not(youth, targets, instance.weights, "s0", "h1")
    assert not answer.feasible
    (failure,) = answer.failures
    assert failure.rule == "siblings_together" and "s1 fails gender" in failure.detail
    assert rank(instance.youth, targets, instance.weights).proposals == ()
