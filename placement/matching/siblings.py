"""CP-SAT settles where sibling groups go.

Each group takes one of its sites or none. What a site costs the other youth is read from
target prices of the flow that places them: a slot a waiting youth would pay ``v`` for costs a
group ``v``. Groups compete with each other directly, through the free slots of each site. The
model holds only the groups, so CP-SAT settles it exactly, and its optimum, added to the
individual youth's best priced values and the prices of all capacity, is a proven bound on the
whole problem (a Lagrangian relaxation of capacity that keeps the groups' own constraints).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from placement.matching.arrays import Ints
from placement.matching.groups import GroupOption, SitePrices


@dataclass(frozen=True, slots=True)
class SiteChoice:
    sites: list[GroupOption | None]
    """Per group: its site, or None."""
    bound: int
    """No choice of sites is worth more at these prices."""


def choose_sites(
    options: Sequence[Sequence[GroupOption]],
    worth: Ints,
    charges: SitePrices,
    room: Ints,
    effort: float,
) -> SiteChoice:
    """The sites that maximise the groups' priced value within each site's free slots."""
    model = cp_model.CpModel()
    load: dict[int, list[tuple[cp_model.IntVar, int]]] = defaultdict(list)
    objective: list[tuple[cp_model.IntVar, int]] = []
    rows: list[list[tuple[GroupOption, cp_model.IntVar]]] = []
    for g, listed in enumerate(options):
        row = []
        base = int(worth[list(listed[0].members)].sum()) if listed else 0
        for j, option in enumerate(listed):
            value = base + option.score - charges.charge(option)
            if value <= 0:
                continue
            z = model.new_bool_var(f"g{g}o{j}")
            load[option.site].append((z, len(option.members)))
            objective.append((z, value))
            row.append((option, z))
        model.add_at_most_one(z for _, z in row)
        rows.append(row)
    for site, terms in sorted(load.items()):
        if sum(n for _, n in terms) > room[site]:
            model.add(sum(n * z for z, n in terms) <= int(room[site]))
    model.maximize(sum(value * z for z, value in objective))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = effort
    solver.parameters.max_time_in_seconds = 10 * effort
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"CP-SAT found no site choice: {solver.status_name(status)}")
    return SiteChoice(
        sites=[next((o for o, z in row if solver.boolean_value(z)), None) for row in rows],
        bound=math.ceil(solver.best_objective_bound) if objective else 0,
    )
