"""The measures a program can set itself a target on, each read from a row of capacity counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from placement.capacity.schemas import CapacityRow, Direction


@dataclass(frozen=True, slots=True)
class Metric:
    label: str
    direction: Direction
    """Whether the target is reached at or above its value, or at or below it (a wait)."""
    read: Callable[[CapacityRow], float | None]

    def reached(self, value: float | None, target: float) -> bool:
        if value is None:
            return False
        return value >= target if self.direction == "at_least" else value <= target


def _wait(read: Callable[[CapacityRow], float | None]) -> Callable[[CapacityRow], float | None]:
    """A wait, which is none at all (0 days) while nobody awaits placement."""
    return lambda row: 0.0 if row.youth.awaiting == 0 else read(row)


def _in_service(row: CapacityRow) -> float:
    return row.beds.available + row.beds.held + row.beds.occupied


METRICS: Final[dict[str, Metric]] = {
    "safe_house_beds": Metric("Safe-house beds in service", "at_least", _in_service),
    "safe_house_beds_available": Metric("Safe-house beds available", "at_least", lambda r: r.beds.available),
    "households": Metric("Households", "at_least", lambda r: r.households),
    "household_places_licensed": Metric("Household places licensed", "at_least", lambda r: r.places.licensed),
    "household_places_free": Metric(
        "Free places in open homes", "at_least", lambda r: r.places.free_in_open_homes
    ),
    "homes_ready_standard": Metric(
        "Homes ready for standard care", "at_least", lambda r: r.ready_homes.standard
    ),
    "homes_ready_trafficking_specialized": Metric(
        "Homes ready for specialised care", "at_least", lambda r: r.ready_homes.trafficking_specialized
    ),
    "youth_awaiting": Metric("Youth awaiting placement", "at_most", lambda r: r.youth.awaiting),
    "median_wait_days": Metric("Median wait (days)", "at_most", _wait(lambda r: r.youth.median_wait_days)),
    "p90_wait_days": Metric("90th-percentile wait (days)", "at_most", _wait(lambda r: r.youth.p90_wait_days)),
}
