"""The program's day is its own time zone's, not UTC's: an evening in Massachusetts is still today."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from caregivers.reminders.models import Notification
from caregivers.reminders.outbox import write_reminders
from placement.core.resources import Resources, in_zone
from placement.core.settings import Settings
from placement.core.uow import unit_of_work
from tests.caregivers.factories import make_caregiver, make_household
from tests.conftest import FakeClock

BOSTON = "America/New_York"


def test_the_clock_tells_the_programs_day_at_the_same_instant() -> None:
    evening = FakeClock(datetime(2026, 12, 3, 2, 30, tzinfo=UTC))  # 21:30 on 2 December in Boston
    now = in_zone(evening, Settings(timezone=BOSTON).zone)()
    assert now == evening.now and now.date() == date(2026, 12, 2)


def test_the_time_zone_is_boston_unless_set_and_a_wrong_one_is_refused() -> None:
    assert Settings.from_env({}).timezone == BOSTON
    assert Settings.from_env({"PLACEMENT_TIMEZONE": "Europe/Lisbon"}).timezone == "Europe/Lisbon"
    with pytest.raises(ValueError, match="PLACEMENT_TIMEZONE"):
        Settings.from_env({"PLACEMENT_TIMEZONE": "Mass/Boston"})


@pytest.mark.parametrize(("zone", "due"), [(BOSTON, date(2026, 12, 1)), ("UTC", date(2026, 12, 2))])
async def test_staleness_is_due_on_the_programs_day(zone: str, due: date, resources: Resources) -> None:
    confirmed = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)  # the evening of 1 November in Boston
    household = await make_household(resources.sessionmaker, availability_confirmed_at=confirmed)
    await make_caregiver(resources.sessionmaker, household)
    async with unit_of_work(resources.sessionmaker) as session:
        await write_reminders(session, date(2026, 12, 1), 30, zone)
    async with resources.sessionmaker() as session:
        assert await session.scalar(select(Notification.due_on)) == due
