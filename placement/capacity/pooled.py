"""The capacity reads that need the matcher, as a pool process runs them.

The process loads every youth awaiting placement and every candidate itself
(`placement.matches.joint.read_instance`), so neither the load nor the engine stalls the event
loop; answers cross back as JSON.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from placement.capacity.blocking import unmet_need
from placement.capacity.scenarios import Scenario
from placement.capacity.whatif import what_if
from placement.matches.joint import read_instance


def count_unmet_need(database_url: str, now: datetime, counts_self_reported: bool) -> bytes:
    """The awaiting youth's feasible targets and blocking rules, counted (`UnmetNeed`)."""
    return msgspec.json.encode(unmet_need(read_instance(database_url, None, now, counts_self_reported)))


def try_scenario(
    database_url: str,
    now: datetime,
    counts_self_reported: bool,
    scenario: bytes,
    effort: float,
    seconds: float,
) -> bytes:
    """The awaiting youth solved jointly before and after the scenario (`WhatIfAnswer`)."""
    instance = read_instance(database_url, None, now, counts_self_reported)
    return msgspec.json.encode(
        what_if(instance, msgspec.json.decode(scenario, type=Scenario), effort, seconds)
    )
