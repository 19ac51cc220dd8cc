"""Who reads the capacity figures: program leads, administrators and placement staff."""

from __future__ import annotations

from placement.core.security.guards import allow

READERS = allow("program_lead", "admin", "placement_staff", entity="capacity")
TARGET_SETTERS = allow("program_lead", "admin", entity="capacity_target")
