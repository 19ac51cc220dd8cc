"""Readiness of households for each level of care, computed when asked (never stored).

A household is ready for a level when every one of its primary caregivers has a counting
completion of every module the level's rules name. A completion counts on a day when it was
completed on or before it, has not expired (`expires_on` null, or on or after the day), and is
verified, or self-reported completions count (a setting). A level with no rules is ready for every
household; a level with rules is not ready for a household with no primary caregiver.

`readiness` answers for many households in two statements; `ready_for_level` is the same test as
a SQL condition on `Household`, for searches. They must agree (tested on the same data).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Date, String, and_, bindparam, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from caregivers.households.models import Caregiver, Household
from caregivers.training.models import Completion, ReadinessRule, TrainingModule, TrainingSeries
from caregivers.training.schemas import CaregiverMissing, LevelReadiness, MissingModule, MissingWhy
from placement.core.vocabulary import CARE_LEVELS

PRIMARY = "primary"


def counts(today: ColumnElement[date] | date, counts_self_reported: bool) -> ColumnElement[bool]:
    """Whether a completion counts towards readiness on `today`."""
    condition = and_(
        Completion.completed_on <= today,
        or_(Completion.expires_on.is_(None), Completion.expires_on >= today),
    )
    return condition if counts_self_reported else and_(condition, Completion.verified_at.is_not(None))


def ready_for_level(counts_self_reported: bool) -> ColumnElement[bool]:
    """True when the household (correlated on `Household.id`) is ready for the level bound as
    `ready_level` on the day bound as `today`: no rule of that level lacks a counting completion by
    some primary caregiver, nor finds the household without any."""
    level = bindparam("ready_level", None, type_=String)
    today = bindparam("today", None, type_=Date)
    person = aliased(Caregiver)
    primaries = and_(person.household_id == Household.id, person.role == PRIMARY)
    # Correlated explicitly: the households and rules are two and three levels out.
    done = (
        select(Completion.id)
        .where(
            Completion.caregiver_id == person.id,
            Completion.module_id == ReadinessRule.module_id,
            counts(today, counts_self_reported),
        )
        .correlate(person, ReadinessRule)
        .exists()
    )
    some_primary = select(person.id).where(primaries).correlate(Household).exists()
    untrained_primary = select(person.id).where(primaries, ~done).correlate(Household, ReadinessRule).exists()
    unmet = (
        select(ReadinessRule.module_id)
        .where(ReadinessRule.level == level, or_(~some_primary, untrained_primary))
        .correlate(Household)
        .exists()
    )
    return ~unmet


@dataclass(frozen=True, slots=True)
class _Rule:
    module_id: uuid.UUID
    code: str
    title: str


@dataclass(frozen=True, slots=True)
class _Pair:
    """One primary caregiver and one required module: is it met, until when, and if not, why."""

    met: bool
    forever: bool
    lasts_until: date | None
    why: MissingWhy


NOT_MET = _Pair(met=False, forever=False, lasts_until=None, why="not_completed")


@dataclass(slots=True)
class _Person:
    name: str
    pairs: dict[tuple[str, uuid.UUID], _Pair] = field(default_factory=dict)


async def _rules(session: AsyncSession) -> dict[str, list[_Rule]]:
    rows = await session.execute(
        select(ReadinessRule.level, TrainingModule.id, TrainingModule.code, TrainingModule.title)
        .join(TrainingModule, TrainingModule.id == ReadinessRule.module_id)
        .join(TrainingSeries, TrainingSeries.id == TrainingModule.series_id)
        .order_by(ReadinessRule.level, TrainingSeries.code, TrainingModule.position)
    )
    rules: dict[str, list[_Rule]] = defaultdict(list)
    for level, module_id, code, title in rows:
        rules[level].append(_Rule(module_id, code, title))
    return rules


async def _primaries(
    session: AsyncSession, household_ids: Collection[uuid.UUID], today: date, counts_self_reported: bool
) -> dict[uuid.UUID, dict[uuid.UUID, _Person]]:
    """Each household's primary caregivers, and for each rule how their completions stand."""
    counting = counts(today, counts_self_reported)
    # The outer join gives a caregiver without any completion of a module one row of nulls.
    current = and_(
        Completion.id.is_not(None), or_(Completion.expires_on.is_(None), Completion.expires_on >= today)
    )
    rows = await session.execute(
        select(
            Caregiver.household_id,
            Caregiver.id,
            Caregiver.name,
            ReadinessRule.level,
            ReadinessRule.module_id,
            func.bool_or(counting).label("met"),
            func.bool_or(and_(counting, Completion.expires_on.is_(None))).label("forever"),
            func.max(Completion.expires_on).filter(counting).label("lasts_until"),
            func.bool_or(and_(current, Completion.verified_at.is_(None))).label("unverified"),
            func.bool_or(Completion.expires_on < today).label("expired"),
        )
        .select_from(Caregiver)
        .outerjoin(ReadinessRule, true())
        .outerjoin(
            Completion,
            and_(
                Completion.caregiver_id == Caregiver.id,
                Completion.module_id == ReadinessRule.module_id,
                Completion.completed_on <= today,
            ),
        )
        .where(Caregiver.household_id.in_(household_ids), Caregiver.role == PRIMARY)
        .group_by(
            Caregiver.household_id, Caregiver.id, Caregiver.name, ReadinessRule.level, ReadinessRule.module_id
        )
        .order_by(Caregiver.household_id, Caregiver.name, Caregiver.id)
    )
    found: dict[uuid.UUID, dict[uuid.UUID, _Person]] = defaultdict(dict)
    for row in rows:
        person = found[row.household_id].setdefault(row.id, _Person(row.name))
        if row.level is None:  # no rules at all
            continue
        why: MissingWhy = "unverified" if row.unverified else "expired" if row.expired else "not_completed"
        person.pairs[row.level, row.module_id] = _Pair(bool(row.met), bool(row.forever), row.lasts_until, why)
    return found


def _level(level: str, rules: list[_Rule], people: dict[uuid.UUID, _Person]) -> LevelReadiness:
    if not rules:
        return LevelReadiness(
            level=level, ready=True, percent=100, primary_caregivers=len(people), missing=[], next_expiry=None
        )
    met, expiries, missing = 0, [], []
    for caregiver_id, person in people.items():
        lacking = []
        for rule in rules:
            # (A rule added between the two statements is simply not yet met.)
            pair = person.pairs.get((level, rule.module_id), NOT_MET)
            if pair.met:
                met += 1
                if not pair.forever and pair.lasts_until is not None:
                    expiries.append(pair.lasts_until)
            else:
                lacking.append(
                    MissingModule(module_id=rule.module_id, code=rule.code, title=rule.title, why=pair.why)
                )
        if lacking:
            missing.append(CaregiverMissing(caregiver_id=caregiver_id, name=person.name, modules=lacking))
    needed = len(people) * len(rules)
    return LevelReadiness(
        level=level,
        ready=bool(people) and met == needed,
        # Rounded down: 100 only when every pair is met.
        percent=100 * met // needed if needed else 0,
        primary_caregivers=len(people),
        missing=missing,
        next_expiry=min(expiries, default=None),
    )


async def readiness(
    session: AsyncSession, household_ids: Collection[uuid.UUID], today: date, counts_self_reported: bool
) -> dict[uuid.UUID, list[LevelReadiness]]:
    """Readiness per level of care (in `CARE_LEVELS` order) of each household, in two statements
    however many households are asked about. `next_expiry` is the earliest day on which a met
    requirement lapses (the longest-lasting counting completion of each caregiver and module)."""
    if not household_ids:
        return {}
    rules = await _rules(session)
    people = await _primaries(session, household_ids, today, counts_self_reported)
    return {
        household_id: [
            _level(level, rules.get(level, []), people.get(household_id, {})) for level in CARE_LEVELS
        ]
        for household_id in household_ids
    }
