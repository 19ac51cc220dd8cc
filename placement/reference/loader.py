"""Load the reference geography into the database: idempotent, keyed by stable ids."""

from __future__ import annotations

import uuid

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from placement.reference.geography import Place, massachusetts_places
from placement.reference.models import County, Municipality, Region

_NAMESPACE = uuid.UUID("6f1c1d7e-1b7a-4f43-9d0e-6a1f3c2b9e10")


def stable_id(kind: str, *names: str) -> uuid.UUID:
    """The same place gets the same id in every database (demo data and benches rely on it)."""
    return uuid.uuid5(_NAMESPACE, ":".join((kind, *names)))


async def load_reference_data(session: AsyncSession, places: tuple[Place, ...] | None = None) -> int:
    """Upsert regions, counties and municipalities; returns the number of municipalities."""
    places = massachusetts_places() if places is None else places
    regions = sorted({p.region for p in places})
    counties = sorted({p.county for p in places})
    await session.execute(
        insert(Region)
        .values([{"id": stable_id("region", r), "name": r} for r in regions])
        .on_conflict_do_nothing(index_elements=["id"])
    )
    await session.execute(
        insert(County)
        .values([{"id": stable_id("county", c), "name": c} for c in counties])
        .on_conflict_do_nothing(index_elements=["id"])
    )
    rows = [
        {
            "id": stable_id("municipality", p.county, p.name),
            "name": p.name,
            "county_id": stable_id("county", p.county),
            "region_id": stable_id("region", p.region),
            "lat": p.lat,
            "lon": p.lon,
        }
        for p in places
    ]
    statement = insert(Municipality).values(rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={
                "region_id": statement.excluded.region_id,
                "lat": statement.excluded.lat,
                "lon": statement.excluded.lon,
            },
        )
    )
    return len(rows)
