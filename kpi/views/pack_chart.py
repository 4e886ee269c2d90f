"""One KPI's trajectory chart for the board pack as inline SVG: vector, so sharp at any print size, and drawn from
the series itself, so the pack needs no chart renderer (kaleido) and no network.

The chart spans the plan window (from six months before it, to the target month if later): the judged figure
(solid), the plan's trajectory from its baseline to its target (dashed), the target (dotted, with a star at its
month), status markers by shape, the plan window shaded and the pack's month marked. Suppressed or missing
months are gaps. Its legend is the caller's HTML (real text beside the picture).
"""

from __future__ import annotations

from html import escape

import pandas as pd

from etl.months import add, count, label
from kpi.definitions import KpiDefinition, PlanWindow
from kpi.engine.trajectory import trajectory_value
from kpi.views.charts import (
    DARK_GREY,
    FONT,
    PLAN_WINDOW_FILL,
    STATUS_MARKERS,
    axis_title,
    format_number,
)
from kpi.views.palette import SERIES

PLAN, AREA = SERIES["plan"], SERIES["area"]  # one colour, one meaning (kpi/views/palette.py)

WIDTH, HEIGHT = 680, 250  # the viewBox; the SVG scales to the page's width
LEFT, RIGHT, TOP, BOTTOM = 52, 30, 12, 34
LEAD_MONTHS = 6  # months shown before the plan window, for context


def chart_months(kpi: KpiDefinition, window: PlanWindow) -> list[str]:
    """The months on the x axis: six before the plan window to its end (or the target month if later)."""
    end = max(window.end, kpi.plan.target.period) if kpi.plan else window.end
    start = add(window.start, -LEAD_MONTHS)
    return [add(start, i) for i in range(count(start, end))]


def _nice_top(top: float) -> float:
    """A round upper bound for the y axis (1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:
        return 1.0
    power = 10 ** (len(str(int(top))) - 1) if top >= 1 else 1
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= top:
            return float(step * power)
    return float(10 * power)


def _path(points: list[tuple[float, float] | None]) -> str:
    """An SVG path through the points, broken at each None (a gap)."""
    out, pen_down = [], False
    for p in points:
        if p is None:
            pen_down = False
            continue
        out.append(f"{'L' if pen_down else 'M'}{p[0]:.1f},{p[1]:.1f}")
        pen_down = True
    return " ".join(out)


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}" stroke="white" stroke-width="1"/>'
    if shape == "diamond":
        return (f'<path d="M{x:.1f},{y - 5.5:.1f} L{x + 5.5:.1f},{y:.1f} L{x:.1f},{y + 5.5:.1f} '
                f'L{x - 5.5:.1f},{y:.1f} Z" fill="{colour}" stroke="white" stroke-width="1"/>')
    return (f'<path d="M{x - 4.5:.1f},{y - 4.5:.1f} L{x + 4.5:.1f},{y + 4.5:.1f} M{x - 4.5:.1f},{y + 4.5:.1f} '
            f'L{x + 4.5:.1f},{y - 4.5:.1f}" stroke="{colour}" stroke-width="2.5"/>')


def trajectory_svg(rows: pd.DataFrame, kpi: KpiDefinition, window: PlanWindow, period: str) -> str:
    """The chart as an ``<svg>`` element (``rows``: the KPI's series as the reader's role sees it), the judged
    figure up to the pack's month ``period`` only, as the KPI page draws it: a pack is read as of its month."""
    months = chart_months(kpi, window)
    by_month = rows.set_index("period") if len(rows) else pd.DataFrame()
    column = kpi.basis_column

    def value(p: str, col: str) -> float | None:
        if p not in by_month.index or col not in by_month.columns:
            return None
        v = by_month.at[p, col]
        return None if v is None or pd.isna(v) else float(v)

    judged = [value(p, column) if p <= period else None for p in months]  # the month as it stood: nothing after it
    planned = [trajectory_value(kpi.plan, p) if kpi.plan else None for p in months]  # the whole plan, not
    # only the months with data
    target = kpi.plan.target if kpi.plan else None
    known = [v for v in [*judged, *planned, target.value if target else None] if v is not None]
    highest = max(known, default=1.0) * 1.08
    top = 100.0 if kpi.unit == "percent" and highest > 50 else min(_nice_top(highest), 100.0) \
        if kpi.unit == "percent" else _nice_top(highest)  # a small percentage is not squashed against 0–100
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(months) - 1, 1)

    def xy(i: int, v: float | None) -> tuple[float, float] | None:
        return None if v is None else (LEFT + i * step, TOP + plot_h * (1 - min(max(v / top, 0), 1)))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart" role="img" '
             f'font-family="{FONT}" font-size="11">',
             f"<title>{escape(kpi.short_name)}: the judged figure against the plan's trajectory and target</title>"]
    ws, we = months.index(window.start), months.index(window.end)
    parts.append(f'<rect x="{LEFT + (ws - 0.5) * step:.1f}" y="{TOP}" width="{(we - ws + 1) * step:.1f}" '
                 f'height="{plot_h}" fill="{PLAN_WINDOW_FILL}"/>')
    parts.append(f'<text x="{LEFT + (ws - 0.3) * step:.1f}" y="{TOP + 11}" fill="{DARK_GREY}" font-size="10">'
                 'APP monitoring window</text>')
    for k in range(5):  # gridlines and y labels
        v = top * k / 4
        y = TOP + plot_h * (1 - k / 4)
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#D8D8D8" '
                     'stroke-width="0.8"/>')
        decimals = 0 if v == int(v) else 1
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{DARK_GREY}">'
                     f'{format_number(v, decimals)}</text>')
    parts.append(f'<text transform="translate(12,{TOP + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle" '
                 f'fill="{DARK_GREY}" font-size="10">{axis_title(kpi)}</text>')
    for i, p in enumerate(months):  # x labels every third month, and the last
        if i % 3 == 0 or i == len(months) - 1 and i % 3 > 1:
            x = LEFT + i * step
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}" '
                         f'stroke="{DARK_GREY}"/>')
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 17}" text-anchor="middle" fill="{DARK_GREY}">'
                         f'{label(p)[:3]} {p[:4]}</text>')
    if period in months:
        x = LEFT + months.index(period) * step
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}" stroke="{DARK_GREY}" '
                     'stroke-width="1" stroke-dasharray="5 3 1 3"/>')
    if target is not None:
        y = xy(0, target.value)[1]
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{PLAN}" '
                     'stroke-width="1.5" stroke-dasharray="2 3"/>')
        if target.period in months:
            tx = LEFT + months.index(target.period) * step
            parts.append(f'<text x="{tx:.1f}" y="{y + 5:.1f}" text-anchor="middle" fill="{PLAN}" '
                         'font-size="16">★</text>')
    parts.append(f'<path d="{_path([xy(i, v) for i, v in enumerate(planned)])}" fill="none" stroke="{PLAN}" '
                 'stroke-width="2" stroke-dasharray="6 4"/>')
    parts.append(f'<path d="{_path([xy(i, v) for i, v in enumerate(judged)])}" fill="none" stroke="{AREA}" '
                 'stroke-width="2.5"/>')
    for i, p in enumerate(months):
        status = by_month.at[p, "status"] if p in by_month.index and "status" in by_month.columns else None
        point = xy(i, judged[i])
        if isinstance(status, str) and status in STATUS_MARKERS and point is not None:
            shape, colour = STATUS_MARKERS[status]  # the same shapes as the dashboard's trajectory chart
            parts.append(_marker(shape, *point, colour))
    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
                 f'stroke="{DARK_GREY}"/>')
    parts.append("</svg>")
    return "".join(parts)
