"""The instance format and the `match` commands, on the shipped example."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

from placement.bench.match import match_bench
from placement.core.vocabulary import CARE_LEVELS, GENDERS, LANGUAGES, SERVICES
from placement.matching.cli import match_group
from placement.matching.schema import SPECIALISED_CARE_LEVEL, Batch, Instance, Ranking, encode
from placement.matching.weights import Weights

EXAMPLE = Path(str(files("placement.matching").joinpath("examples", "small.json")))


def test_example_uses_the_shared_vocabulary() -> None:
    instance = msgspec.json.decode(EXAMPLE.read_bytes(), type=Instance)
    assert SPECIALISED_CARE_LEVEL in CARE_LEVELS
    for y in instance.youth:
        assert y.gender in GENDERS
        assert set(y.languages) <= set(LANGUAGES)
        assert set(y.required_services) <= set(SERVICES)
    for t in instance.targets:
        assert set(t.services) <= set(SERVICES)
        assert set(t.ready_levels) <= set(CARE_LEVELS)
    assert msgspec.json.decode(encode(instance), type=Instance) == instance


def test_missing_weights_take_the_defaults_and_unknown_fields_are_refused() -> None:
    data = json.loads(EXAMPLE.read_text())
    data.pop("weights")
    assert msgspec.json.decode(json.dumps(data), type=Instance).weights == Weights()
    data["youth"][0]["nickname"] = "x"
    with pytest.raises(msgspec.ValidationError, match="nickname"):
        msgspec.json.decode(json.dumps(data), type=Instance)


def test_bed_needs_its_safe_house() -> None:
    data = json.loads(EXAMPLE.read_text())
    del data["targets"][0]["safe_house_id"]
    with pytest.raises(msgspec.ValidationError, match="safe_house_id"):
        msgspec.json.decode(json.dumps(data), type=Instance)


def test_solve_writes_a_batch_result(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    result = CliRunner().invoke(match_group, ["solve", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    batch = msgspec.json.decode(out.read_bytes(), type=Batch)
    assert batch.status == "optimal"
    placed = {a.youth_id: a.target_id for a in batch.assignments}
    assert placed["y-ben"] == placed["y-cora"] == "hh-foster-shrewsbury"


def test_solve_ranks_a_single_youth(tmp_path: Path) -> None:
    data = json.loads(EXAMPLE.read_text())
    data["youth"] = data["youth"][:1]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(data))
    result = CliRunner().invoke(match_group, ["solve", str(single), "--limit", "2"])
    assert result.exit_code == 0, result.output
    ranking = msgspec.json.decode(result.output, type=Ranking)
    assert [p.site_id for p in ranking.proposals] == ["sh-boston", "sh-boston"]


LOADED = """
import sys
from placement.cli import main
try:
    main(sys.argv[1:])
finally:
    sys.stderr.write("\\nloaded: " + " ".join(sorted(sys.modules)))
"""
SERVICE = ("litestar", "sqlalchemy", "alembic", "asyncpg", "arq", "placement.app", "placement.bench")


def loaded_by(*args: str) -> set[str]:
    """The modules a fresh run of ``placement ARGS`` imports."""
    run = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True, check=True)
    return set(run.stderr.rsplit("loaded: ", 1)[1].split())


def test_help_and_the_match_commands_import_only_what_they_use(tmp_path: Path) -> None:
    help_loads = loaded_by("--help")
    assert not {m for m in help_loads if m.startswith((*SERVICE, "numpy", "ortools"))}
    batch_loads = loaded_by("match", "solve", str(EXAMPLE))
    assert not {m for m in batch_loads if m.startswith(SERVICE)}
    assert "ortools.sat.python.cp_model" in batch_loads  # the example has a sibling group
    data = json.loads(EXAMPLE.read_text())
    data["youth"] = data["youth"][:1]
    single = tmp_path / "one.json"
    single.write_text(json.dumps(data))
    assert not {m for m in loaded_by("match", "solve", str(single)) if m.startswith("ortools")}


def test_why_not_names_the_rule_with_values() -> None:
    args = ["why-not", str(EXAMPLE), "--youth", "y-eli", "--target", "sh-north-1"]
    result = CliRunner().invoke(match_group, args)
    assert result.exit_code == 0, result.output
    assert "exclusion: safe house sh-north is excluded" in result.output
    feasible = CliRunner().invoke(
        match_group, ["why-not", str(EXAMPLE), "--youth", "y-amara", "--target", "sh-boston-2"]
    )
    assert "rank 2 of 4" in feasible.output and "beaten by sh-boston-1" in feasible.output


def test_why_not_reports_unknown_ids() -> None:
    args = ["why-not", str(EXAMPLE), "--youth", "nobody", "--target", "sh-north-1"]
    result = CliRunner().invoke(match_group, args)
    assert result.exit_code == 1
    assert "no youth 'nobody'" in result.output


COLUMNS = (
    *("case", "method", "seconds", "x_relaxed", "peak", "placed"),
    *("priority", "score", "objective", "bound", "gap", "status"),
)


def test_bench_prints_every_method_beside_the_relaxed_flow_and_saves(tmp_path: Path) -> None:
    args = [
        "--sizes",
        "60x200",
        "--variants",
        "scarce",
        "--rank-repeats",
        "5",
        "--rank-targets",
        "300",
        "--save",
        str(tmp_path),
    ]
    result = CliRunner().invoke(match_bench, args)
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines() if line.startswith("60x200-scarce-s1")]
    rows = {row["method"]: row for row in (dict(zip(COLUMNS, line, strict=True)) for line in lines)}
    assert rows["relaxed"]["x_relaxed"] == "1.00"  # each time also as a multiple of the flow's
    assert rows["engine"]["status"] == "optimal"
    assert rows["engine"]["objective"] == rows["engine"]["bound"]
    assert rows["greedy"]["bound"] == "-"
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == ["60x200-scarce-s1.instance.json", "60x200-scarce-s1.result.json"]
    msgspec.json.decode((tmp_path / saved[0]).read_bytes(), type=Instance)
