"""Every table of the service, imported in one place for Alembic's metadata."""

from caregivers.households.models import Caregiver, Household, HouseholdYouth
from caregivers.reminders.models import Notification
from caregivers.training.models import Completion, ReadinessRule, TrainingModule, TrainingSeries
from placement.capacity.models import CapacitySnapshot, CapacityTarget, CapacityWhatIf
from placement.core.audit import AuditEntry
from placement.core.db import Base
from placement.core.idempotency import IdempotencyRecord
from placement.core.security.models import AccessToken, User
from placement.matches.models import MatchBatch, MatchInstance, MatchRequest
from placement.placements.models import Placement
from placement.reference.models import County, Municipality, Region
from placement.safehouses.models import Bed, SafeHouse
from placement.youth.models import Youth

__all__ = [
    "AccessToken",
    "AuditEntry",
    "Base",
    "Bed",
    "CapacitySnapshot",
    "CapacityTarget",
    "CapacityWhatIf",
    "Caregiver",
    "Completion",
    "County",
    "Household",
    "HouseholdYouth",
    "IdempotencyRecord",
    "MatchBatch",
    "MatchInstance",
    "MatchRequest",
    "Municipality",
    "Notification",
    "Placement",
    "ReadinessRule",
    "Region",
    "SafeHouse",
    "TrainingModule",
    "TrainingSeries",
    "User",
    "Youth",
]
