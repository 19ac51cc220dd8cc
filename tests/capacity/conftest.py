"""Capacity's engine-side pieces are pure: their tests need no database or Redis."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_state() -> None:
    return None
