"""The seeded training catalog, as a program would list it, and its loader.

The titles name topics only: the catalog claims no figures about exploitation or about outcomes.
Loading upserts by code, so it is safe to run on every start; default readiness rules are seeded
only while there are none (an administrator's rules are never overwritten).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from caregivers.training.models import ReadinessRule, TrainingModule, TrainingSeries
from placement.reference.loader import stable_id

# The seeded modules exist from this day: completions recorded before it are refused.
CATALOG_START: Final = date(2024, 1, 1)


@dataclass(frozen=True, slots=True)
class SeedSeries:
    code: str
    title: str
    description: str
    audience: str
    validity_months: int | None
    modules: tuple[tuple[str, int], ...]  # (title, minutes), in order

    def module_code(self, position: int) -> str:
        return f"{self.code}-{position:02d}"


EXPLOITATION: Final = SeedSeries(
    code="exploitation",
    title="Caring for youth at risk of or recovering from exploitation",
    description=(
        "A nine-part video series for foster and kin parents caring for youth who were sexually or "
        "labor exploited, or who are at risk of it."
    ),
    audience="caregiver",
    validity_months=36,
    modules=(
        ("Understanding child sex and labor trafficking", 40),
        ("Recognizing the signs of exploitation and recruitment", 35),
        ("How trauma shapes a young person's responses", 45),
        ("Building trust and a sense of safety at home", 40),
        ("Safety planning: recruiters, running away and online contact", 45),
        ("Responding to a disclosure without re-traumatizing", 35),
        ("Working with the caseworker, the team and law enforcement", 35),
        ("Supporting school, health, identity and connection", 40),
        ("Caring for yourself and your family: secondary trauma", 30),
    ),
)

TRAUMA_BASICS: Final = SeedSeries(
    code="trauma-basics",
    title="Basic trauma-informed care",
    description="The foundations of trauma-informed care for every foster and kin parent.",
    audience="caregiver",
    validity_months=24,
    modules=(
        ("What trauma is and how it affects children", 45),
        ("Trauma-informed parenting: responding instead of reacting", 45),
        ("Reminders, triggers and calming together", 40),
    ),
)

SUPPORTING_CAREGIVERS: Final = SeedSeries(
    code="supporting-caregivers",
    title="Supporting kin and foster parents",
    description=(
        "A course for caseworkers on preparing and supporting the kin and foster parents who care "
        "for youth at risk of or recovering from exploitation."
    ),
    audience="caseworker",
    validity_months=None,
    modules=(
        ("Preparing kin and foster parents for a placement", 60),
        ("Sharing information with caregivers safely", 45),
        ("Supporting caregivers through a crisis or a missing episode", 60),
        ("Recognizing and responding to caregiver strain", 45),
    ),
)

CATALOG: Final = (EXPLOITATION, TRAUMA_BASICS, SUPPORTING_CAREGIVERS)
SEEDED_CODES: Final = frozenset(s.module_code(n) for s in CATALOG for n in range(1, len(s.modules) + 1))


def default_rules() -> dict[str, list[str]]:
    """Module codes per level: basic trauma-informed care for standard care; that and all nine
    parts of the exploitation series for trafficking-specialized care."""
    basics = [TRAUMA_BASICS.module_code(n) for n in range(1, len(TRAUMA_BASICS.modules) + 1)]
    nine = [EXPLOITATION.module_code(n) for n in range(1, len(EXPLOITATION.modules) + 1)]
    return {"standard": basics, "trafficking_specialized": basics + nine}


async def load_training_catalog(session: AsyncSession) -> int:
    """Upsert the seeded series and modules by code, and seed the default readiness rules the
    first time (never again: rules an admin emptied stay empty); returns the number of seeded
    modules."""
    first_time = not await session.scalar(select(exists().where(TrainingModule.code.in_(SEEDED_CODES))))
    series_rows = [
        {
            "id": stable_id("training_series", s.code),
            "code": s.code,
            "title": s.title,
            "description": s.description,
            "audience": s.audience,
        }
        for s in CATALOG
    ]
    series_insert = insert(TrainingSeries).values(series_rows)
    series_ids = dict(
        (
            await session.execute(
                series_insert.on_conflict_do_update(
                    index_elements=["code"],
                    set_={
                        "title": series_insert.excluded.title,
                        "description": series_insert.excluded.description,
                        "audience": series_insert.excluded.audience,
                        "updated_at": func.now(),
                    },
                ).returning(TrainingSeries.code, TrainingSeries.id)
            )
        ).all()
    )
    module_rows = [
        {
            "id": stable_id("training_module", s.module_code(position)),
            "series_id": series_ids[s.code],
            "code": s.module_code(position),
            "title": title,
            "position": position,
            "duration_minutes": minutes,
            "validity_months": s.validity_months,
            "available_from": CATALOG_START,
        }
        for s in CATALOG
        for position, (title, minutes) in enumerate(s.modules, start=1)
    ]
    module_insert = insert(TrainingModule).values(module_rows)
    await session.execute(
        module_insert.on_conflict_do_update(
            index_elements=["code"],
            set_={
                name: getattr(module_insert.excluded, name)
                for name in ("series_id", "title", "position", "duration_minutes", "validity_months")
            }
            | {"updated_at": func.now()},
        )
    )
    if first_time:
        await seed_default_rules(session)
    return len(module_rows)


async def seed_default_rules(session: AsyncSession) -> None:
    """The default readiness rules (`default_rules`), added to whatever rules there are."""
    codes = default_rules()
    wanted = {c for level in codes.values() for c in level}
    modules = dict(
        (
            await session.execute(
                select(TrainingModule.code, TrainingModule.id).where(TrainingModule.code.in_(wanted))
            )
        ).all()
    )
    await session.execute(
        insert(ReadinessRule).values(
            [{"level": level, "module_id": modules[c]} for level, cs in codes.items() for c in cs]
        )
    )
