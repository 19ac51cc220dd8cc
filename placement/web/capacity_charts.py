"""The capacity dashboard's charts: SVG drawn on the server by pygal, embedded in the page.

No script (pygal's configuration script is taken out: the pages' policy runs none) and nothing
fetched from another site (`js=[]`); colours dark enough on white for WCAG
2.2 AA's 3:1 for graphics, text at 4.5:1. Each chart is an image to assistive technology (its
summary its label); the table beside it carries the same figures.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

import pygal
from pygal.style import Style

from placement.capacity.schemas import CapacityHistory, CapacityOut, CoverageRow, NeedRow, TargetOut

INK, MUTED = "#1a1a1a", "#4a4a4a"
SERIES_COLOURS = ("#0b5394", "#8a1c00", "#1d5e20", "#5b2a86", "#6b4e00", "#00545c")
"""Each at 7:1 or more against white."""

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground=INK,
    foreground_strong=INK,
    foreground_subtle=MUTED,
    colors=SERIES_COLOURS,
    font_family="system-ui, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    legend_font_size=15,
    title_font_size=16,
    opacity=".85",
    opacity_hover=".95",
)


def _config() -> dict[str, Any]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "style": STYLE,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 1,
        "width": 560,
        "height": 360,
        "print_values": False,
        "include_x_axis": True,
        "truncate_legend": -1,
        "truncate_label": -1,
    }


SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
"""pygal's inline configuration, for its tooltip script (which is never loaded here)."""
Series = tuple[tuple[str, tuple[float | None, ...]], ...]


@functools.lru_cache(maxsize=64)
def _render(kind: str, labels: tuple[str, ...], series: Series, options: tuple[tuple[str, Any], ...]) -> str:
    """The chart's SVG; the same figures are drawn once (pygal takes ~12 ms a chart, and the
    dashboard's figures change far less often than it is viewed)."""
    chart = getattr(pygal, kind)(**{**_config(), **dict(options)})
    chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values))
    return SCRIPT.sub("", str(chart.render(is_unicode=True)))


def capacity_chart(now: CapacityOut) -> str:
    """Per region, county or kind: safe-house beds available, free places in open homes, and (by
    place) youth awaiting, from the groups' own rows."""
    series: list[tuple[str, tuple[float | None, ...]]] = [
        ("Safe-house beds available", tuple(row.beds.available for row in now.rows)),
        ("Free places in open homes", tuple(row.places.free_in_open_homes for row in now.rows)),
    ]
    if now.by != "kind":  # by kind the awaiting are statewide only
        series.append(("Youth awaiting", tuple(row.youth.awaiting for row in now.rows)))
    height = 120 + 36 * len(now.rows)  # a bar group a row, readable for 14 counties
    groups = tuple(row.group for row in now.rows)
    return _render("HorizontalBar", groups, tuple(series), (("height", height),))


def history_chart(series: CapacityHistory) -> str:
    """Statewide beds available, free places in open homes and youth awaiting, day by day."""
    days = [row for row in series.rows if row.id is None and row.group == "statewide"]
    return _render(
        "Line",
        tuple(row.day.isoformat() for row in days),
        (
            ("Safe-house beds available", tuple(row.beds.available for row in days)),
            ("Free places in open homes", tuple(row.places.free_in_open_homes for row in days)),
            ("Youth awaiting", tuple(row.youth.awaiting for row in days)),
        ),
        (
            ("x_label_rotation", 30),
            ("show_minor_x_labels", False),
            ("x_labels_major_count", 7),
            ("dots_size", 2),
        ),
    )


def targets_chart(targets: Sequence[TargetOut]) -> str:
    """Each target's current value, its value projected to the due date, and the target itself."""
    return _render(
        "HorizontalBar",
        tuple(f"{t.title} ({t.place})" for t in targets),
        (
            ("Now", tuple(t.current for t in targets)),
            ("Projected by due date", tuple(t.projected for t in targets)),
            ("Target", tuple(t.value for t in targets)),
        ),
        (),
    )


def unmet_need_chart(statewide: NeedRow) -> str:
    """Statewide, the youth with no feasible target by the rule that blocks them."""
    rules = sorted(statewide.blocked_by.items(), key=lambda item: (-item[1], item[0]))
    labels = tuple(rule.replace("_", " ") for rule, _ in rules)
    return _render(
        "HorizontalBar", labels, (("Youth", tuple(n for _, n in rules)),), (("show_legend", False),)
    )


def coverage_chart(rows: Iterable[CoverageRow]) -> str:
    """By region: households, and those ready for standard and for specialised care."""
    rows = list(rows)
    return _render(
        "Bar",
        tuple(row.group for row in rows),
        (
            ("Households", tuple(row.households for row in rows)),
            ("Ready: standard", tuple(row.ready_homes.standard for row in rows)),
            ("Ready: specialised", tuple(row.ready_homes.trafficking_specialized for row in rows)),
        ),
        (("x_label_rotation", 20),),
    )
