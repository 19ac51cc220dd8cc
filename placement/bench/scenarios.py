"""The scenarios measured against a floor: what each client sends, and the targets to meet.

A scenario turns a server (`Target`) into one conversation per client; the real app and the floor
get the same conversations, the real one under the service's `/api/v1` prefix and signed in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from placement.bench.data import SEED, BenchData, Lane
from placement.bench.load import Client, Conversation, Figures, Run, Target, drive, figures, rotation
from placement.reference.geography import massachusetts_places
from placement.reference.loader import stable_id

MIX_SIZE = 64
ROUNDS = 5  # service and floor, alternated
REWARM_S = 0.5  # before each later round: connections opened again, not measured
CANCEL_BODY = b'{"reason":"entered_in_error"}'
HELD = 201


def request_mix(rng: random.Random, size: int = MIX_SIZE) -> list[str]:
    """Query strings: three in four search near a municipality's centroid, one in four a region."""
    places = massachusetts_places()
    regions = sorted({place.region for place in places})
    queries = []
    for n in range(size):
        age, gender = rng.randint(12, 17), rng.choices(("female", "male", "nonbinary"), (70, 22, 8))[0]
        if n % 4 == 3:
            region = stable_id("region", rng.choice(regions))
            queries.append(f"region={region}&age={age}&gender={gender}&limit=20")
            continue
        place = rng.choice(places)
        service = rng.choice(("trauma_therapy", "mental_health", "education"))
        within = rng.choice((25, 50, 100))
        queries.append(
            f"age={age}&gender={gender}&services={service}"
            f"&near={place.lat},{place.lon}&within_km={within}&limit=20"
        )
    return queries


def shared_rotation(requests: list[bytes], clients: int) -> list[Conversation]:
    """`clients` conversations taking turns through one rotation of requests."""
    shared = itertools.cycle(requests)
    return [rotation(shared) for _ in range(clients)]


def free_beds(target: Target, data: BenchData, clients: int) -> list[Conversation]:
    """Staff searching for free beds with a rotating mix of realistic filters."""
    mix = request_mix(random.Random(SEED))  # noqa: S311 - a reproducible request mix
    return shared_rotation([target.request("GET", f"/beds/available?{query}") for query in mix], clients)


def youth_reads(target: Target, data: BenchData, clients: int) -> list[Conversation]:
    """Staff opening youth records, each a different one (the real app audits every read)."""
    return shared_rotation([target.request("GET", f"/youth/{youth}") for youth in data.youth_ids], clients)


def hold_body(lane: Lane) -> bytes:
    return msgspec.json.encode({"youth_id": lane.youth_id, "bed_id": lane.bed_id})


class Created(msgspec.Struct):
    id: uuid.UUID


def holds_and_cancels(target: Target, lanes: list[Lane]) -> Conversation:
    """Hold a lane's bed for its youth, cancel that hold, and go on to the next lane, round and round."""
    requests = [target.request("POST", "/placements", hold_body(lane)) for lane in lanes]
    for hold in itertools.cycle(requests):
        status, body = yield hold
        if status == HELD:
            placement = msgspec.json.decode(body, type=Created).id
            yield target.request("POST", f"/placements/{placement}/cancel", CANCEL_BODY)


def holds(target: Target, data: BenchData, clients: int) -> list[Conversation]:
    """Staff holding beds and cancelling the holds, each client on lanes of its own."""
    lanes = data.write_lanes[target.name]
    return [holds_and_cancels(target, lanes[client::clients]) for client in range(clients)]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    conversations: Callable[[Target, BenchData, int], list[Conversation]]
    min_throughput_ratio: float
    max_p99_ms: float | None = None


SCENARIOS = (
    Scenario("free-beds", "GET /beds/available", free_beds, min_throughput_ratio=0.5, max_p99_ms=50.0),
    Scenario("audited-read", "GET /youth/{id}", youth_reads, min_throughput_ratio=0.6),
    Scenario("write", "POST /placements, then POST /placements/{id}/cancel", holds, min_throughput_ratio=0.5),
)


@dataclass(frozen=True, slots=True)
class Comparison:
    """One scenario's figures on the real app and on its floor, against the scenario's targets."""

    scenario: str
    title: str
    real: Figures
    floor: Figures
    min_throughput_ratio: float
    max_p99_ms: float | None

    @property
    def ratio(self) -> float:
        """Real throughput as a share of the floor's."""
        return self.real.throughput / self.floor.throughput if self.floor.throughput else 0.0

    @property
    def throughput_ok(self) -> bool:
        return self.ratio >= self.min_throughput_ratio

    @property
    def latency_ok(self) -> bool:
        return self.max_p99_ms is None or (self.real.requests > 0 and self.real.p99_ms < self.max_p99_ms)

    @property
    def passed(self) -> bool:
        return self.throughput_ok and self.latency_ok and not (self.real.errors or self.floor.errors)

    def as_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "ratio": self.ratio, "passed": self.passed}


def compare(
    runner: asyncio.Runner,
    scenario: Scenario,
    real: Target,
    floor: Target,
    data: BenchData,
    clients: int,
    warmup: float,
    seconds: float,
    rounds: int = ROUNDS,
) -> Comparison:
    """Measure the real app and the floor, each with `clients` clients following the scenario for
    `seconds` in all, in alternating rounds (real then floor, floor then real, ...) so that a
    machine slowing down or speeding up during the run weighs on both alike. Each client carries
    its conversation on from one round to the next."""
    talkers = {
        target.name: [Client(c) for c in scenario.conversations(target, data, clients)]
        for target in (real, floor)
    }
    runs: dict[str, list[Run]] = {real.name: [], floor.name: []}
    for n in range(rounds):
        for target in (real, floor) if n % 2 == 0 else (floor, real):
            warm = warmup if n == 0 else min(warmup, REWARM_S)
            run = runner.run(drive(target.port, talkers[target.name], warm, seconds / rounds))
            runs[target.name].append(run)
    return Comparison(
        scenario=scenario.name,
        title=scenario.title,
        real=figures(real.name, runs[real.name]),
        floor=figures(floor.name, runs[floor.name]),
        min_throughput_ratio=scenario.min_throughput_ratio,
        max_p99_ms=scenario.max_p99_ms,
    )
