"""The compose-file tests need no database: the suite's autouse database fixture is switched off here."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_state() -> None:
    return None
