"""A target's area point (its municipality's centre): what caseworkers may learn is measured from
it, while the hard rules keep judging the exact position."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

import placement.matching
from placement.matching.schema import Instance
from tests.matching.conftest import make_target

EXAMPLE = Path(placement.matching.__file__).parent / "examples" / "small.json"


def test_a_target_names_both_area_coordinates_or_neither() -> None:
    with pytest.raises(ValueError, match="both or neither"):
        make_target(area_lat=42.4)
    data = msgspec.json.decode(EXAMPLE.read_bytes())
    data["targets"][0]["area_lon"] = -71.0
    with pytest.raises(msgspec.ValidationError, match="both or neither"):
        msgspec.json.decode(msgspec.json.encode(data), type=Instance)
