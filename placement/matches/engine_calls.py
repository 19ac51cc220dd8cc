"""The engine's calls as a pool process runs them: instances and answers cross as JSON bytes.

Each is what `placement match solve` or `placement match why-not` does with the same instance
(`placement.matching.cli.solve_instance`), so an exported instance reproduces the stored answer.
"""

from __future__ import annotations

import msgspec

from placement.matching.arrays import compile_targets, compile_youth
from placement.matching.cli import solve_instance
from placement.matching.explain import why_not
from placement.matching.rank import rank
from placement.matching.schema import Instance

Pair = tuple[str, str]  # (youth id, target id)


def decode_instance(body: bytes) -> Instance:
    return msgspec.json.decode(body, type=Instance)


def rank_both_ways(body: bytes, limit: int) -> tuple[bytes, bytes]:
    """Proposals for one youth or one sibling group: exact, and banded (for the roles that may
    not see positions), from one compilation of the targets; as `placement match solve --mode
    rank` (and `--banded`) gives them."""
    instance = decode_instance(body)
    targets = compile_targets(instance.targets, instance.reference_date)
    exact, banded = (
        rank(instance.youth, targets, instance.weights, limit=limit, banded=banded)
        for banded in (False, True)
    )
    return msgspec.json.encode(exact), msgspec.json.encode(banded)


def solve_jointly(body: bytes, effort: float, seconds: float) -> bytes:
    """Every youth of the instance placed jointly, with the bound."""
    instance = decode_instance(body)
    return msgspec.json.encode(solve_instance(instance, mode="batch", effort=effort, seconds=seconds))


def explain_pairs(body: bytes, pairs: list[Pair], banded: bool) -> list[bytes | None]:
    """`why_not` for each pair; None where the instance lacks the youth or the target."""
    instance = decode_instance(body)
    targets = compile_targets(instance.targets, instance.reference_date)
    youth = compile_youth(instance.youth, targets)
    return [
        msgspec.json.encode(why_not(youth, targets, instance.weights, y, t, banded=banded))
        if y in youth.index and t in targets.index
        else None
        for y, t in pairs
    ]
