"""A real arq worker on the test's Redis, sharing the app's resources (its database and clock)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from arq.worker import Worker

from placement.core.resources import Resources
from placement.core.settings import Settings
from placement.worker import worker_settings


@pytest.fixture
async def worker(settings: Settings, resources: Resources) -> AsyncIterator[Worker]:
    running = Worker(**worker_settings(settings, resources))
    task = asyncio.create_task(running.async_run())
    yield running
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await running.close()
