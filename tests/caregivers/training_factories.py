"""Training helpers for tests: seeded module ids, completions written straight to the database, and
putting the seeded catalog and default rules back after a test changed them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from caregivers.training.catalog import (
    CATALOG,
    SEEDED_CODES,
    default_rules,
    load_training_catalog,
    seed_default_rules,
)
from caregivers.training.models import Completion, ReadinessRule, TrainingModule, TrainingSeries
from caregivers.training.service import add_months
from placement.core.uow import unit_of_work

BASICS = default_rules()["standard"]
SPECIALIZED = default_rules()["trafficking_specialized"]


async def module_ids(sessionmaker: async_sessionmaker[AsyncSession], *codes: str) -> list[uuid.UUID]:
    async with sessionmaker() as session:
        found = dict(
            (
                await session.execute(
                    select(TrainingModule.code, TrainingModule.id).where(TrainingModule.code.in_(codes))
                )
            ).all()
        )
    return [found[code] for code in codes]


async def complete(
    sessionmaker: async_sessionmaker[AsyncSession],
    caregiver_id: uuid.UUID,
    codes: list[str],
    completed_on: date,
    *,
    verified_by: uuid.UUID | None,
) -> None:
    """Completions of the modules on one day: entered and verified by staff (`verified_by`, a
    user's id), or self-reported and not verified (None)."""
    async with unit_of_work(sessionmaker) as session:
        modules = (await session.scalars(select(TrainingModule).where(TrainingModule.code.in_(codes)))).all()
        assert len(modules) == len(set(codes))
        for module in modules:
            session.add(
                Completion(
                    caregiver_id=caregiver_id,
                    module_id=module.id,
                    completed_on=completed_on,
                    expires_on=add_months(completed_on, module.validity_months)
                    if module.validity_months
                    else None,
                    source="self_reported" if verified_by is None else "staff_entered",
                    verified_at=None if verified_by is None else datetime.now(UTC),
                    verified_by=verified_by,
                )
            )


async def restore_catalog(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """The seeded catalog and default rules, as every test expects to find them (a test's own
    series and modules gone)."""
    async with unit_of_work(sessionmaker) as session:
        await session.execute(delete(ReadinessRule))
        unseeded = select(TrainingModule.id).where(TrainingModule.code.not_in(SEEDED_CODES))
        await session.execute(delete(Completion).where(Completion.module_id.in_(unseeded)))
        await session.execute(delete(TrainingModule).where(TrainingModule.code.not_in(SEEDED_CODES)))
        await session.execute(
            delete(TrainingSeries).where(TrainingSeries.code.not_in([s.code for s in CATALOG]))
        )
        await load_training_catalog(session)
        await seed_default_rules(session)
