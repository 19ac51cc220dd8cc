"""Notifications as a caregiver reads them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from placement.core.schemas import Schema

Reason = Literal["completion_expiring", "licence_expiring", "availability_stale"]


class NotificationOut(Schema):
    id: uuid.UUID
    reason: Reason
    # What is due: the completion (completion_expiring) or the household (licence, availability).
    subject_id: uuid.UUID
    household_id: uuid.UUID
    due_on: date
    message: str
    created_at: datetime
    # When the caregiver marked it read; null while unread.
    read_at: datetime | None
