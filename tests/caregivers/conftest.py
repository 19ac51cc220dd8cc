"""Every caregivers test finds the seeded training catalog and default rules, and leaves them so."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from placement.core.resources import Resources
from tests.caregivers.training_factories import restore_catalog


@pytest.fixture(autouse=True)
async def catalog_as_seeded(resources: Resources) -> AsyncIterator[None]:
    yield
    await restore_catalog(resources.sessionmaker)
