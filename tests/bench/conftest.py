"""The bench makes its own database on the suite's servers: the autouse database fixture is off here."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_state() -> None:
    return None
