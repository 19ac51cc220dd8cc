"""Writing the reminders that are due to the notifications outbox: one set-based insert per reason.

Each reminder's key is (caregiver, reason, subject, due date), and the due date is a fact about
the subject (the day a completion or licence expires, the day availability goes stale), never the
day the job ran: a second run, the next day's run, or a second worker racing this one finds the
same key and the unique constraint drops the row (ON CONFLICT DO NOTHING). There is no read
before the write: the constraint is the guard.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final, cast

from sqlalchemy import (
    Date,
    Select,
    SQLColumnExpression,
    String,
    Table,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from caregivers.households.models import PLACEABLE_LICENCES, Caregiver, Household
from caregivers.reminders.models import Notification
from caregivers.training.models import Completion, TrainingModule
from placement.core import audit

# How far ahead each reminder is written.
COMPLETION_NOTICE_DAYS: Final = 30
LICENCE_NOTICE_DAYS: Final = 60
STALE_NOTICE_DAYS: Final = 7

NOTIFICATIONS = cast(Table, Notification.__table__)
KEY = ("caregiver_id", "reason", "subject_id", "due_on")
COLUMNS = ("id", "caregiver_id", "household_id", "reason", "subject_id", "due_on", "message")


def _day(value: SQLColumnExpression[Any], zone: str) -> ColumnElement[date]:
    """The calendar day of a timestamp in the program's time zone (the day `today` is)."""
    return sql_cast(func.timezone(zone, value), Date)


def _iso(day: SQLColumnExpression[Any]) -> ColumnElement[str]:
    return func.to_char(day, "YYYY-MM-DD")


def _sentence(*parts: SQLColumnExpression[Any] | str) -> ColumnElement[str]:
    """Concatenate SQL strings and literal text into one message."""
    pieces = [literal(p, String) if isinstance(p, str) else p for p in parts]
    return func.concat(*pieces)


def expiring_completions(today: date) -> Select[*tuple[Any, ...]]:
    """A reminder to each person whose completion expires within the notice period, unless a
    completion of the same module by them outlasts it (a later expiry, or none); of two with the
    same expiry, the later recorded one stands, so a module is reminded once."""
    later = aliased(Completion)
    outlasted = (
        select(later.id)
        .where(
            later.caregiver_id == Completion.caregiver_id,
            later.module_id == Completion.module_id,
            later.id != Completion.id,
            or_(
                later.expires_on.is_(None),
                later.expires_on > Completion.expires_on,
                and_(
                    later.expires_on == Completion.expires_on,
                    tuple_(later.completed_on, later.id) > tuple_(Completion.completed_on, Completion.id),
                ),
            ),
        )
        .exists()
    )
    return (
        select(
            func.gen_random_uuid(),
            Completion.caregiver_id,
            Caregiver.household_id,
            literal("completion_expiring", String),
            Completion.id,
            Completion.expires_on,
            _sentence(
                'Your training "',
                TrainingModule.title,
                '" expires on ',
                _iso(Completion.expires_on),
                ". Complete it again before then to keep it current.",
            ),
        )
        .join(Caregiver, Caregiver.id == Completion.caregiver_id)
        .join(TrainingModule, TrainingModule.id == Completion.module_id)
        .where(
            Completion.expires_on.between(today, today + timedelta(days=COMPLETION_NOTICE_DAYS)),
            ~outlasted,
        )
    )


def expiring_licences(today: date) -> Select[*tuple[Any, ...]]:
    """A reminder to each primary caregiver of a household whose placeable licence expires within
    the notice period."""
    return (
        select(
            func.gen_random_uuid(),
            Caregiver.id,
            Household.id,
            literal("licence_expiring", String),
            Household.id,
            Household.licence_expires_on,
            _sentence(
                "The licence of ",
                Household.name,
                " expires on ",
                _iso(Household.licence_expires_on),
                ". Renew it before then to keep taking placements.",
            ),
        )
        .join(Caregiver, Caregiver.household_id == Household.id)
        .where(
            Caregiver.role == "primary",
            Household.licence_status.in_(PLACEABLE_LICENCES),
            Household.licence_expires_on.between(today, today + timedelta(days=LICENCE_NOTICE_DAYS)),
        )
    )


def stale_availability(today: date, stale_after_days: int, zone: str) -> Select[*tuple[Any, ...]]:
    """A reminder to each primary caregiver of an open or paused household whose availability
    goes stale within the notice period, or has.

    Due: the last day the confirmation still counts (confirmed on + `stale_after_days`; the
    matcher counts it stale from the day after). A household never confirmed is due from the day
    it was created. Either date is fixed until the household confirms again, so the reminder for
    one staleness is written once, however many days the job finds it stale."""
    due = case(
        (Household.availability_confirmed_at.is_(None), _day(Household.created_at, zone)),
        else_=_day(Household.availability_confirmed_at, zone) + stale_after_days,
    )
    return (
        select(
            func.gen_random_uuid(),
            Caregiver.id,
            Household.id,
            literal("availability_stale", String),
            Household.id,
            due,
            _sentence(
                "Please confirm the availability of ",
                Household.name,
                ": it counts as out of date after ",
                _iso(due),
                ".",
            ),
        )
        .join(Caregiver, Caregiver.household_id == Household.id)
        .where(
            Caregiver.role == "primary",
            Household.availability.in_(("open", "paused")),
            due <= today + timedelta(days=STALE_NOTICE_DAYS),
        )
    )


async def write_reminders(session: AsyncSession, today: date, stale_after_days: int, zone: str) -> int:
    """Write every reminder due on `today` that is not written yet; returns how many were new."""
    written = 0
    for due in (
        expiring_completions(today),
        expiring_licences(today),
        stale_availability(today, stale_after_days, zone),
    ):
        statement = (
            insert(NOTIFICATIONS)
            .from_select(list(COLUMNS), due)
            .on_conflict_do_nothing(index_elements=list(KEY))
            .returning(NOTIFICATIONS.c.id)
        )
        written += len((await session.scalars(statement)).all())
    if written:
        audit.record(session, "write_reminders", "notification", None, written=written)
    return written
