"""Every table of the service, imported in one place for Alembic's metadata."""

from placement.core.audit import AuditEntry
from placement.core.db import Base
from placement.core.idempotency import IdempotencyRecord
from placement.core.security.models import AccessToken, User
from placement.placements.models import Placement
from placement.reference.models import County, Municipality, Region
from placement.safehouses.models import Bed, SafeHouse
from placement.youth.models import Youth

__all__ = [
    "AccessToken",
    "AuditEntry",
    "Base",
    "Bed",
    "County",
    "IdempotencyRecord",
    "Municipality",
    "Placement",
    "Region",
    "SafeHouse",
    "User",
    "Youth",
]
