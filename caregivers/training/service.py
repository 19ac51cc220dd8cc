"""The training catalog, recording and verifying completions, readiness rules, and readiness reads."""

from __future__ import annotations

import calendar
import json
import uuid
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.households.access import STAFF, own_household_ids, visible_household
from caregivers.households.models import Caregiver
from caregivers.training.models import Completion, ReadinessRule, TrainingModule, TrainingSeries
from caregivers.training.readiness import readiness
from caregivers.training.schemas import (
    CompletionCreate,
    CompletionOut,
    HouseholdReadiness,
    ModuleCreate,
    ModuleOut,
    ReadinessRules,
)
from placement.core import audit
from placement.core.audit import Actor
from placement.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from placement.core.schemas import Page
from placement.core.vocabulary import CARE_LEVELS


def add_months(day: date, months: int) -> date:
    """`day` plus calendar months, the day clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# The catalog


def _modules() -> Select[TrainingModule, TrainingSeries]:
    return select(TrainingModule, TrainingSeries).join(
        TrainingSeries, TrainingSeries.id == TrainingModule.series_id
    )


def _module_out(module: TrainingModule, series: TrainingSeries) -> ModuleOut:
    return ModuleOut(
        id=module.id,
        series_id=series.id,
        series_code=series.code,
        series_title=series.title,
        audience=series.audience,  # type: ignore[arg-type]
        code=module.code,
        title=module.title,
        position=module.position,
        duration_minutes=module.duration_minutes,
        validity_months=module.validity_months,
        available_from=module.available_from,
    )


async def list_modules(
    session: AsyncSession, audience: str | None, series: str | None, limit: int, offset: int
) -> Page[ModuleOut]:
    """Modules in catalog order (series by code, then position), filtered by audience or series code."""
    query = _modules()
    if audience is not None:
        query = query.where(TrainingSeries.audience == audience)
    if series is not None:
        query = query.where(TrainingSeries.code == series)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(TrainingSeries.code, TrainingModule.position).limit(limit).offset(offset)
    )
    items = [_module_out(module, series) for module, series in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def get_module(session: AsyncSession, module_id: uuid.UUID) -> ModuleOut:
    row = (await session.execute(_modules().where(TrainingModule.id == module_id))).first()
    if row is None:
        raise NotFound(f"No training module with id {module_id}.")
    return _module_out(*row)


async def create_module(session: AsyncSession, data: ModuleCreate) -> ModuleOut:
    """Add a module to a series. Raises Unprocessable for an unknown series, Conflict when the code
    or the series' position is taken."""
    series_id = await session.scalar(select(TrainingSeries.id).where(TrainingSeries.code == data.series))
    if series_id is None:
        raise Unprocessable(f"series: no training series with code {data.series!r}.")
    if await session.scalar(select(TrainingModule.id).where(TrainingModule.code == data.code)):
        raise Conflict(f"A training module with code {data.code!r} already exists.")
    if await session.scalar(
        select(TrainingModule.id).where(
            TrainingModule.series_id == series_id, TrainingModule.position == data.position
        )
    ):
        raise Conflict(f"The series {data.series!r} already has a module at position {data.position}.")
    module = TrainingModule(
        series_id=series_id,
        code=data.code,
        title=data.title,
        position=data.position,
        duration_minutes=data.duration_minutes,
        validity_months=data.validity_months,
        available_from=data.available_from,
    )
    session.add(module)
    await session.flush()
    audit.record(session, "create_training_module", "training_module", module.id, code=data.code)
    return await get_module(session, module.id)


# Completions


def _same_household(actor: Actor) -> ColumnElement[bool] | None:
    """The caregivers this actor may see: a caregiver those of their own household, others all."""
    ids = own_household_ids(actor)
    return None if ids is None else Caregiver.household_id.in_(ids)


def _no_caregiver(caregiver_id: uuid.UUID) -> NotFound:
    return NotFound(f"No caregiver with id {caregiver_id} that you may see.")


async def _visible_caregiver(session: AsyncSession, actor: Actor, caregiver_id: uuid.UUID) -> Caregiver:
    query = select(Caregiver).where(Caregiver.id == caregiver_id)
    scope = _same_household(actor)
    person = await session.scalar(query if scope is None else query.where(scope))
    if person is None:
        raise _no_caregiver(caregiver_id)
    return person


def _completions() -> Select[Completion, str, str]:
    return select(Completion, TrainingModule.code, TrainingModule.title).join(
        TrainingModule, TrainingModule.id == Completion.module_id
    )


def _completion_out(completion: Completion, code: str, title: str) -> CompletionOut:
    return CompletionOut(
        id=completion.id,
        caregiver_id=completion.caregiver_id,
        module_id=completion.module_id,
        module_code=code,
        module_title=title,
        completed_on=completion.completed_on,
        expires_on=completion.expires_on,
        source=completion.source,  # type: ignore[arg-type]
        recorded_by=completion.recorded_by,
        verified=completion.verified_at is not None,
        verified_at=completion.verified_at,
        verified_by=completion.verified_by,
    )


async def list_completions(
    session: AsyncSession, actor: Actor, caregiver_id: uuid.UUID, limit: int, offset: int
) -> Page[CompletionOut]:
    """A caregiver's completions, latest first; a caregiver sees only those of their household."""
    await _visible_caregiver(session, actor, caregiver_id)
    query = _completions().where(Completion.caregiver_id == caregiver_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(Completion.completed_on.desc(), TrainingModule.code).limit(limit).offset(offset)
    )
    items = [_completion_out(*row) for row in rows]
    audit.record(session, "read_completions", "caregiver", caregiver_id)
    return Page(items=items, total=total, limit=limit, offset=offset)


async def get_completion(session: AsyncSession, actor: Actor, completion_id: uuid.UUID) -> CompletionOut:
    """One completion, if this actor may see its caregiver (a re-read of a created one)."""
    query = _completions().join(Caregiver, Caregiver.id == Completion.caregiver_id)
    scope = _same_household(actor)
    query = query.where(Completion.id == completion_id)
    row = (await session.execute(query if scope is None else query.where(scope))).first()
    if row is None:
        raise NotFound(f"No completion with id {completion_id} that you may see.")
    return _completion_out(*row)


async def _module_to_complete(session: AsyncSession, module_id: uuid.UUID) -> tuple[TrainingModule, str]:
    row = (
        await session.execute(
            select(TrainingModule, TrainingSeries.audience)
            .join(TrainingSeries, TrainingSeries.id == TrainingModule.series_id)
            .where(TrainingModule.id == module_id)
        )
    ).first()
    if row is None:
        raise Unprocessable(f"module_id: no training module with id {module_id}.")
    return row[0], row[1]


async def record_completion(
    session: AsyncSession, actor: Actor, caregiver_id: uuid.UUID, data: CompletionCreate, now: datetime
) -> CompletionOut:
    """Record that a caregiver finished a module: self-reported by the caregiver themself, or
    entered (and perhaps verified at once) by staff. Refused (422, nothing written) when dated after
    today or before the module existed, already recorded for that day, or not a caregivers' module."""
    staff = actor.role in STAFF
    if staff:
        person = await _visible_caregiver(session, actor, caregiver_id)
    else:
        own = await session.scalar(
            select(Caregiver).where(Caregiver.id == caregiver_id, Caregiver.user_id == actor.user_id)
        )
        if own is None:
            raise _no_caregiver(caregiver_id)
        person = own
        if data.verified:
            raise Forbidden(
                "A caregiver's own completion is verified by placement staff, not by the caregiver."
            )
    module, audience = await _module_to_complete(session, data.module_id)
    if audience != "caregiver":
        raise Unprocessable(f"module_id: {module.code!r} is a module for {audience}s, not for caregivers.")
    today = now.date()
    if data.completed_on > today:
        raise Unprocessable(f"completed_on: {data.completed_on} is in the future (today is {today}).")
    if data.completed_on < module.available_from:
        raise Unprocessable(
            f"completed_on: {data.completed_on} is before the module {module.code!r} was available "
            f"({module.available_from})."
        )
    if await session.scalar(
        select(Completion.id).where(
            Completion.caregiver_id == person.id,
            Completion.module_id == module.id,
            Completion.completed_on == data.completed_on,
        )
    ):
        raise Unprocessable(f"This completion of {module.code!r} on {data.completed_on} is already recorded.")
    verified = staff and data.verified
    completion = Completion(
        caregiver_id=person.id,
        module_id=module.id,
        completed_on=data.completed_on,
        expires_on=add_months(data.completed_on, module.validity_months) if module.validity_months else None,
        source="staff_entered" if staff else "self_reported",
        recorded_by=actor.user_id,
        verified_at=now if verified else None,
        verified_by=actor.user_id if verified else None,
    )
    session.add(completion)
    await session.flush()
    audit.record(
        session,
        "record_completion",
        "completion",
        completion.id,
        caregiver_id=str(person.id),
        module=module.code,
        source=completion.source,
        verified=verified,
    )
    return _completion_out(completion, module.code, module.title)


async def verify_completion(
    session: AsyncSession, actor: Actor, completion_id: uuid.UUID, now: datetime
) -> CompletionOut:
    """Mark a completion verified by this member of staff. Raises Conflict if it already is."""
    completion = await session.get(Completion, completion_id, with_for_update=True)
    if completion is None:
        raise NotFound(f"No completion with id {completion_id}.")
    if completion.verified_at is not None:
        raise Conflict(f"This completion was already verified, at {completion.verified_at.isoformat()}.")
    completion.verified_at, completion.verified_by = now, actor.user_id
    await session.flush()
    audit.record(session, "verify_completion", "completion", completion_id)
    return await get_completion(session, actor, completion_id)


# Readiness rules


async def _current_rules(session: AsyncSession) -> dict[str, list[uuid.UUID]]:
    rows = await session.execute(
        select(ReadinessRule.level, ReadinessRule.module_id)
        .join(TrainingModule, TrainingModule.id == ReadinessRule.module_id)
        .join(TrainingSeries, TrainingSeries.id == TrainingModule.series_id)
        .order_by(ReadinessRule.level, TrainingSeries.code, TrainingModule.position)
    )
    levels: dict[str, list[uuid.UUID]] = {level: [] for level in CARE_LEVELS}
    for level, module_id in rows:
        levels.setdefault(level, []).append(module_id)
    return levels


async def get_rules(session: AsyncSession) -> ReadinessRules:
    return ReadinessRules(levels=await _current_rules(session))


async def replace_rules(session: AsyncSession, data: ReadinessRules) -> ReadinessRules:
    """Replace every rule at once. Every level must be named (an empty list: no training needed),
    so that leaving a level out cannot quietly make every household ready for it; unknown levels,
    unknown modules and modules for caseworkers are refused (422)."""
    unknown = sorted(set(data.levels) - set(CARE_LEVELS))
    if unknown:
        raise Unprocessable(
            f"levels: unknown level(s) {', '.join(unknown)}; known: {', '.join(CARE_LEVELS)}."
        )
    left_out = [level for level in CARE_LEVELS if level not in data.levels]
    if left_out:
        raise Unprocessable(
            "levels: name every level, with an empty list if it needs no training; "
            f"missing: {', '.join(left_out)}."
        )
    wanted = {level: list(dict.fromkeys(ids)) for level, ids in data.levels.items()}
    named = {module_id for ids in wanted.values() for module_id in ids}
    audiences = dict(
        (
            await session.execute(
                select(TrainingModule.id, TrainingSeries.audience)
                .join(TrainingSeries, TrainingSeries.id == TrainingModule.series_id)
                .where(TrainingModule.id.in_(named))
            )
        ).all()
    )
    missing = sorted(str(m) for m in named - set(audiences))
    if missing:
        raise Unprocessable(f"levels: no training module with id(s) {', '.join(missing)}.")
    for_caseworkers = sorted(str(m) for m, audience in audiences.items() if audience != "caregiver")
    if for_caseworkers:
        raise Unprocessable(
            f"levels: module(s) {', '.join(for_caseworkers)} are for caseworkers, not caregivers."
        )
    # Replacements take turns, so each one's "old" is what the one before it left.
    await session.execute(text("LOCK TABLE readiness_rules IN SHARE ROW EXCLUSIVE MODE"))
    old = await _current_rules(session)
    await session.execute(delete(ReadinessRule))
    rows = [{"level": level, "module_id": m} for level, ids in wanted.items() for m in ids]
    if rows:
        await session.execute(insert(ReadinessRule), rows)
    new = await _current_rules(session)
    audit.record(
        session, "replace_readiness_rules", "readiness_rule", None, old=_as_text(old), new=_as_text(new)
    )
    return ReadinessRules(levels=new)


def _as_text(levels: dict[str, list[uuid.UUID]]) -> str:
    return json.dumps({level: [str(m) for m in ids] for level, ids in levels.items()}, sort_keys=True)


# Readiness


async def household_readiness(
    session: AsyncSession, actor: Actor, household_id: uuid.UUID, today: date, counts_self_reported: bool
) -> HouseholdReadiness:
    """A household's readiness for each level of care, if this actor may see the household."""
    await visible_household(session, actor, household_id)
    found = await readiness(session, [household_id], today, counts_self_reported)
    audit.record(session, "read_household_readiness", "household", household_id)
    return HouseholdReadiness(household_id=household_id, as_of=today, levels=found[household_id])
