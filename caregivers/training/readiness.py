"""Readiness of households for each level of care, computed when asked (never stored).

A household is ready for a level when every one of its primary caregivers has a counting
completion of every module the level's rules name. A completion counts on a day when it was
completed on or before it, has not expired (`expires_on` null, or on or after the day), and is
verified, or self-reported completions count (a setting). A level with no rules is ready for every
household; a level with rules is not ready for a household with no primary caregiver.

`readiness` answers for many households in one statement; `ready_for_level` is the same test as
a SQL condition on `Household`, for searches. They must agree (tested on the same data).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Date, String, and_, bindparam, case, func, literal, or_, select
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from caregivers.households.models import Caregiver, Household
from caregivers.training.models import Completion, ReadinessRule, TrainingModule, TrainingSeries
from caregivers.training.schemas import CaregiverMissing, LevelReadiness, MissingModule, MissingWhy
from placement.core.vocabulary import CARE_LEVELS

PRIMARY = "primary"
NO_ONE = uuid.UUID(int=0)


def counts(
    today: ColumnElement[date] | date, counts_self_reported: bool, completion: type[Completion] = Completion
) -> ColumnElement[bool]:
    """Whether a completion (or one of an alias of the table) counts towards readiness on `today`."""
    condition = and_(
        completion.completed_on <= today,
        or_(completion.expires_on.is_(None), completion.expires_on >= today),
    )
    return condition if counts_self_reported else and_(condition, completion.verified_at.is_not(None))


def ready_for_level(
    counts_self_reported: bool,
    level: ColumnElement[str] | None = None,
    today: ColumnElement[date] | None = None,
) -> ColumnElement[bool]:
    """True when the household (correlated on `Household.id`) is ready for `level` on `today` (by
    default the values bound as `ready_level` and `today`): no rule of that level lacks a counting
    completion by some primary caregiver, nor finds the household without any."""
    level = bindparam("ready_level", None, type_=String) if level is None else level
    today = bindparam("today", None, type_=Date) if today is None else today
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


def ready_levels(counts_self_reported: bool, today: date) -> ColumnElement[list[str]]:
    """The levels of care (in `CARE_LEVELS` order) the household (correlated on `Household.id`) is
    ready for on `today`: `ready_for_level` for each, as one array column."""
    day = literal(today, Date)
    ready = [
        case((ready_for_level(counts_self_reported, literal(level, String), day), literal(level, String)))
        for level in CARE_LEVELS
    ]
    return func.array_remove(array(ready), None)


@dataclass(frozen=True, slots=True)
class _Rule:
    module_id: uuid.UUID
    code: str
    title: str
    order: tuple[str, int]  # the series' code and the module's position: catalog order


@dataclass(frozen=True, slots=True)
class _Pair:
    """One primary caregiver and one required module: is it met, until when, and if not, why."""

    met: bool
    forever: bool
    lasts_until: date | None
    why: MissingWhy


@dataclass(slots=True)
class _Person:
    name: str
    pairs: dict[tuple[str, uuid.UUID], _Pair] = field(default_factory=dict)


async def _standing(
    session: AsyncSession, household_ids: Collection[uuid.UUID], today: date, counts_self_reported: bool
) -> tuple[dict[str, list[_Rule]], dict[uuid.UUID, dict[uuid.UUID, _Person]]]:
    """In one statement: the rules of every level (in catalog order), and each household's primary
    caregivers with how their completions stand against each rule.

    The households' primary caregivers and the rules are fully joined on a constant, so a household
    without primaries still brings the rules, and rules of no level still bring the caregivers."""
    primaries = (
        select(literal(1).label("k"), Caregiver.id, Caregiver.household_id, Caregiver.name)
        .where(Caregiver.household_id.in_(household_ids), Caregiver.role == PRIMARY)
        .subquery()
    )
    rules = (
        select(
            literal(1).label("k"),
            ReadinessRule.level,
            ReadinessRule.module_id,
            TrainingModule.code,
            TrainingModule.title,
            TrainingSeries.code.label("series"),
            TrainingModule.position,
        )
        .join(TrainingModule, TrainingModule.id == ReadinessRule.module_id)
        .join(TrainingSeries, TrainingSeries.id == TrainingModule.series_id)
        .subquery()
    )
    counting = counts(today, counts_self_reported)
    # The outer join gives a caregiver without any completion of a module one row of nulls.
    current = and_(
        Completion.id.is_not(None), or_(Completion.expires_on.is_(None), Completion.expires_on >= today)
    )
    keys = (primaries.c.household_id, primaries.c.id, primaries.c.name, rules.c.level, rules.c.module_id)
    # The module's labels and order depend on its id alone: taken by min() rather than grouped on,
    # and the rows put in order here, not by the database's (slow, collation-aware) text sort.
    rows = await session.execute(
        select(
            *keys,
            func.min(rules.c.code).label("code"),
            func.min(rules.c.title).label("title"),
            func.min(rules.c.series).label("series"),
            func.min(rules.c.position).label("position"),
            func.bool_or(counting).label("met"),
            func.bool_or(and_(counting, Completion.expires_on.is_(None))).label("forever"),
            func.max(Completion.expires_on).filter(counting).label("lasts_until"),
            func.bool_or(and_(current, Completion.verified_at.is_(None))).label("unverified"),
            func.bool_or(Completion.expires_on < today).label("expired"),
        )
        .select_from(primaries.join(rules, primaries.c.k == rules.c.k, full=True))
        .outerjoin(
            Completion,
            and_(
                Completion.caregiver_id == primaries.c.id,
                Completion.module_id == rules.c.module_id,
                Completion.completed_on <= today,
            ),
        )
        .group_by(*keys)
    )
    found_rules: dict[str, dict[uuid.UUID, _Rule]] = defaultdict(dict)
    found: dict[uuid.UUID, dict[uuid.UUID, _Person]] = defaultdict(dict)
    # Unpacked by position: a Row's attribute access costs more than the rest of this loop.
    for row in sorted(rows, key=lambda r: (r[2] or "", r[1] or NO_ONE)):
        household_id, caregiver_id, name, level, module_id, code, title, series, position = row[:9]
        met, forever, lasts_until, unverified, expired = row[9:]
        if level is not None and module_id not in found_rules[level]:
            found_rules[level][module_id] = _Rule(module_id, code, title, (series, position))
        if caregiver_id is None:  # no primary caregiver in any of the households
            continue
        people = found[household_id]
        person = people.get(caregiver_id) or people.setdefault(caregiver_id, _Person(name))
        if level is None:  # no rules at all
            continue
        why: MissingWhy = "unverified" if unverified else "expired" if expired else "not_completed"
        person.pairs[level, module_id] = _Pair(bool(met), bool(forever), lasts_until, why)
    in_order = {
        level: sorted(by_module.values(), key=lambda r: r.order) for level, by_module in found_rules.items()
    }
    return in_order, found


def _level(level: str, rules: list[_Rule], people: dict[uuid.UUID, _Person]) -> LevelReadiness:
    if not rules:
        return LevelReadiness(
            level=level, ready=True, percent=100, primary_caregivers=len(people), missing=[], next_expiry=None
        )
    met, expiries, missing = 0, [], []
    for caregiver_id, person in people.items():
        lacking = []
        for rule in rules:
            pair = person.pairs[level, rule.module_id]
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
    """Readiness per level of care (in `CARE_LEVELS` order) of each household, in one statement
    however many households are asked about. `next_expiry` is the earliest day on which a met
    requirement lapses (the longest-lasting counting completion of each caregiver and module)."""
    if not household_ids:
        return {}
    rules, people = await _standing(session, household_ids, today, counts_self_reported)
    return {
        household_id: [
            _level(level, rules.get(level, []), people.get(household_id, {})) for level in CARE_LEVELS
        ]
        for household_id in household_ids
    }
