"""Formatting helpers and plotly figure builders for the dashboard pages. Pure functions: no Streamlit here.

Colours come from kpi/views/palette.py, one colour per meaning. Status is always carried by words and a symbol (and, in
charts, a marker shape); colour is only a secondary cue.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date

import pandas as pd
import plotly.graph_objects as go

from etl.months import NAMES, add, count, first_day, label, last_day
from kpi.definitions import KpiDefinition, PlanWindow
from kpi.engine.trajectory import STATUS_ICONS, STATUS_LABELS, is_improvement
from kpi.views.palette import (  # noqa: F401  (the palette's names, re-exported for the other views)
    AFTER_FILL,
    DARK_BLUE,
    DARK_GREY,
    DARK_PINK,
    GRID,
    LIGHT_PURPLE,
    ORANGE,
    PLAN_WINDOW_FILL,
    SERIES,
    STATUS,
    TEXT,
    TURQUOISE,
)

FONT = "Arial, Helvetica, sans-serif"

STATUS_ORDER = ["on_track", "within_tolerance", "off_track", "no_data", "too_few"]
NOT_JUDGED = ["baseline", "partial"]  # planned months with no status, and why (kpi.engine.series.scorecard's unjudged)
NOT_IN_PLAN = "Not in plan"
# Marker shapes distinguish status in charts without relying on colour.
STATUS_MARKERS = {status: (symbol, STATUS[status]) for status, symbol in
                  (("on_track", "circle"), ("within_tolerance", "diamond"), ("off_track", "x"))}

SUPPRESSED = "suppressed"  # the status kpi/access/suppress.py gives a month whose figures are hidden
SUPPRESSED_SYMBOL = "c"  # what a hidden count shows: kpi.access.suppress.SYMBOL (DfE's c)

TABLE_COLUMNS = ["Period", "Numerator", "Denominator", "Value", "Rolling 12-month", "Judged on", "Complete month",
                 "Trajectory", "Target", "Status"]


# --- formatting ---------------------------------------------------------------------------------------------

def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def format_number(value, decimals: int = 0) -> str:
    """A number with thousands separators and fixed decimals; '–' when missing."""
    if _missing(value):
        return "–"
    return f"{float(value):,.{decimals}f}"


def format_value(value, unit: str, decimals: int, suppressed: bool = False) -> str:
    """A KPI value in its unit: '48.8%', '1,132', '23.4 weeks'; '–' when missing; 'c' when suppressed (a month
    whose status is 'suppressed', kpi/access/suppress.py)."""
    if _missing(value):
        return SUPPRESSED_SYMBOL if suppressed else "–"
    if unit == "count" and float(value).is_integer():
        decimals = 0  # a count of children is whole ('17' against a planned '16.6', never '17.0')
    text = format_number(value, decimals)
    if unit == "percent":
        return f"{text}%"
    if unit == "weeks":
        return f"{text} weeks"
    return text


def telling_decimals(value, trajectory, decimals: int) -> int:
    """The decimals to print a judged figure and its trajectory with: the KPI's own, or one or two more where the
    KPI's own would print two different numbers the same (59.95% against a planned 60%: '59.95%' and '60.00%',
    never '60.0%' against '60.0%' beside a status that says they differ). Status is judged on the exact figures."""
    if _missing(value) or _missing(trajectory) or value == trajectory:
        return decimals
    for more in (decimals, decimals + 1, decimals + 2):
        if format_number(value, more) != format_number(trajectory, more):
            return more
    return decimals  # equal but for float noise (or a hair's breadth): more decimals would not tell them apart


def format_amount(amount, unit: str, decimals: int) -> str:
    """A difference in the KPI's unit (no sign): '3.2 pts' for percentages, '9' for counts, '0.7 weeks'."""
    if _missing(amount):
        return "–"
    text = format_number(abs(amount), decimals)
    if unit == "percent":
        return f"{text} pts"
    if unit == "weeks":
        return f"{text} weeks"
    return text


def format_change(delta, unit: str, decimals: int, polarity: str) -> str:
    """Change since last month with an arrow and its meaning: '▲ 3.2 pts, better', '▼ 9, worse', 'No change'."""
    if _missing(delta):
        return "No comparison"
    if round(abs(delta), decimals) == 0:
        return "No change"
    arrow = "▲" if delta > 0 else "▼"
    better = is_improvement(delta, polarity)
    return f"{arrow} {format_amount(delta, unit, decimals)}, {'better' if better else 'worse'}"


def format_basis(numerator, denominator, unit: str, median=None, suppressed: bool = False) -> str:
    """What the value is made of: '271 of 555' for rates, 'mean of 73 plans' for weeks, 'at month end' for counts;
    with ``suppressed``, hidden counts read 'c' ('c of 88'), never 'none in the month'."""
    if unit == "count":
        return "count at month end"
    if suppressed:
        def part(v):
            return SUPPRESSED_SYMBOL if _missing(v) else format_number(v)

        return f"mean of {part(denominator)} plans" if unit == "weeks" else f"{part(numerator)} of {part(denominator)}"
    if _missing(denominator) or denominator == 0:
        return "none in the month"
    if unit == "weeks" and _missing(numerator) and not _missing(median):  # a median KPI (waiting lists)
        return f"median of {format_number(denominator)} waiting"
    if unit == "weeks":
        text = f"mean of {format_number(denominator)} plans"
        if not _missing(median):
            text += f"; median {format_number(median, 1)}"
        return text
    return f"{format_number(numerator)} of {format_number(denominator)}"


def format_period(period: str | None) -> str:
    """'2023-07' → 'July 2023'."""
    if not period:
        return "–"
    return label(period)


def format_window(window: PlanWindow) -> str:
    """The plan's monitoring window: 'February 2023 – January 2024'."""
    return f"{format_period(window.start)} – {format_period(window.end)}"


def format_date(iso: str | None) -> str:
    """'2023-01-31' → '31 January 2023'."""
    if not iso:
        return "–"
    d = date.fromisoformat(str(iso))
    return f"{d.day} {NAMES[d.month - 1]} {d.year}"


def plan_month(period: str, window: PlanWindow) -> int | None:
    """Which month of the plan a period is (1-based), or None outside the window."""
    n = count(window.start, period)
    return n if 1 <= n <= plan_length(window) else None


def plan_length(window: PlanWindow) -> int:
    return count(window.start, window.end)


def stocktakes(window: PlanWindow) -> list[tuple[str, str]]:
    """The formal stocktake months: six months in and the end of the plan, as (label, period)."""
    out = []
    six = add(window.start, 5)
    if six < window.end:
        out.append(("6-month stocktake", six))
    out.append(("End of plan", window.end))
    return out


def status_text(status: str | None) -> str:
    """Status as symbol and words: '✔ On track'; 'Not in plan' where the month has no trajectory."""
    if _missing(status) or not status:
        return NOT_IN_PLAN
    return f"{STATUS_ICONS[status]} {STATUS_LABELS[status]}"


def status_counts(statuses: Iterable[str | None]) -> dict[str, int]:
    """How many KPIs have each status, in display order, 'not_in_plan' for those without a trajectory."""
    counts = dict.fromkeys([*STATUS_ORDER, *NOT_JUDGED, "not_in_plan", SUPPRESSED], 0)
    for s in statuses:
        counts[s if s in counts else "not_in_plan"] += 1
    return counts


def status_summary(statuses: Iterable[str | None], period: str) -> str:
    """'3 on track · 2 within tolerance · 3 off track in July 2023' (zero counts left out except the main three)."""
    counts = status_counts(statuses)
    if counts["not_in_plan"] == sum(counts.values()):
        return f"No KPI has a plan trajectory in {format_period(period)}"
    parts = [f"{counts[s]} {STATUS_LABELS[s].lower()}" for s in STATUS_ORDER[:3]]
    if counts["no_data"]:
        parts.append(f"{counts['no_data']} no data")
    if counts["too_few"]:
        parts.append(f"{counts['too_few']} too few to judge")
    if counts["baseline"]:
        parts.append(f"{counts['baseline']} in their baseline month (not judged)")
    if counts["partial"]:
        parts.append(f"{counts['partial']} in a partial month (not judged)")
    if counts["not_in_plan"]:
        parts.append(f"{counts['not_in_plan']} not in plan")
    if counts[SUPPRESSED]:
        parts.append(f"{counts[SUPPRESSED]} suppressed")
    return " · ".join(parts) + f" in {format_period(period)}"


def recent_periods(period: str, n: int) -> list[str]:
    """The n months ending at period, oldest first."""
    return [add(period, -i) for i in range(n - 1, -1, -1)]


def plan_points(kpi: KpiDefinition) -> list[tuple[str, str, float, str | None]]:
    """The plan as (label, period, value, note): baseline, milestones, target."""
    if kpi.plan is None:
        return []
    p = kpi.plan
    return ([("Baseline", p.baseline.period, p.baseline.value, p.baseline.note)]
            + [("Milestone", m.period, m.value, m.note) for m in p.milestones]
            + [("Target", p.target.period, p.target.value, p.target.source)])


def basis_text(kpi: KpiDefinition) -> str:
    """What a plan judges, in words: a rolling plan's 12 months (a calendar year's figure in December only when the
    plan cites calendar-year or DfE figures: a local baseline of 12 months to September is not one), else each
    month's own figure."""
    if kpi.plan is None or kpi.plan.basis != "rolling_12m":
        return "each month's own figure"
    text = "the rolling 12 months to each month, the basis its baseline and target are on"
    if kpi.plan.cites_calendar_year():
        text += " (calendar-year figures: December's is the calendar year's)"
    return text


def polarity_text(polarity: str) -> str:
    return "Higher is better" if polarity == "up" else "Lower is better"


def axis_title(kpi: KpiDefinition) -> str:
    return {"percent": "Percentage (%)", "weeks": "Weeks", "count": "Number"}[kpi.unit]


# --- the table and its download --------------------------------------------------------------------------

def _rounded(values: pd.Series, decimals: int) -> pd.Series:
    """Round to the KPI's decimals; whole-number columns become integers so they show and export as '91'."""
    values = pd.to_numeric(values, errors="coerce").astype("Float64")
    finite = values.dropna()
    if decimals == 0 or (len(finite) and (finite % 1 == 0).all()):
        return values.round(0).astype("Int64")
    return values.round(decimals)


def judged_column(kpi: KpiDefinition) -> str:
    """The table column holding the figure a KPI is judged on (its basis column, as table_frame names it)."""
    return "Rolling 12-month" if kpi.basis == "rolling_12m" else "Value"


def table_frame(rows: pd.DataFrame, kpi: KpiDefinition, upto: str | None = None) -> pd.DataFrame:
    """One KPI's monthly series as the page shows it and the CSV exports it: TABLE_COLUMNS, rounded as displayed,
    newest month first (the months to ``upto`` when given: the month the page shows). A month without a trajectory
    is 'Not in plan', whatever its figures (never 'Suppressed': there is no status to hide)."""
    rows = rows.sort_values("period", ascending=False)
    if upto is not None:
        rows = rows[rows["period"] <= upto]
    # The judged column and the trajectory at decimals that tell every month's pair apart (telling_decimals)
    told = max((telling_decimals(v, t, kpi.decimals) for v, t in zip(rows[kpi.basis_column], rows["trajectory"],
                                                                      strict=True)), default=kpi.decimals)
    places = {"Numerator": kpi.decimals, "Value": kpi.decimals, "Rolling 12-month": kpi.decimals,
              judged_column(kpi): told, "Trajectory": told}
    out = pd.DataFrame({
        "Period": rows["period"].astype(str).to_numpy(),
        "Numerator": _rounded(rows["numerator"], kpi.decimals).to_numpy(),
        "Denominator": _rounded(rows["denominator"], 0).to_numpy(),
        "Value": _rounded(rows["value"], places["Value"]).to_numpy(),
        "Rolling 12-month": _rounded(rows["rolling_12m"], places["Rolling 12-month"]).to_numpy(),
        "Judged on": "Rolling 12 months" if kpi.basis == "rolling_12m" else "The month",
        "Complete month": (["Yes" if bool(c) else "No (partial)" for c in rows["complete"]]
                           if "complete" in rows.columns else "Yes"),
        "Trajectory": _rounded(rows["trajectory"], told).to_numpy(),
        "Target": _rounded(rows["target"], kpi.decimals).to_numpy(),
        "Status": [NOT_IN_PLAN if _missing(s) or _missing(t) else STATUS_LABELS[s]
                   for s, t in zip(rows["status"], rows["trajectory"], strict=True)],
    })
    if "suppressed" in rows.columns:  # a suppressed series (kpi/access/suppress.py): hidden cells read 'c', as shown
        hidden = ("," + rows["suppressed"].astype(str) + ",").to_numpy()
        for column, field in (("Numerator", "numerator"), ("Denominator", "denominator"), ("Value", "value"),
                              ("Rolling 12-month", "rolling_12m")):
            mask = pd.Series(hidden).str.contains(f",{field},", regex=False).to_numpy()
            counts = column in ("Numerator", "Denominator")
            text = out[column].astype(object).map(
                lambda v, counts=counts, column=column: _cell_text(v, places.get(column, 0), counts))
            out[column] = text.where(~mask, SUPPRESSED_SYMBOL)
    out = out[TABLE_COLUMNS].copy()
    out.attrs["decimals"] = places  # column_formats displays each column at its own decimals
    return out


def _cell_text(value, decimals: int, counts: bool) -> str:
    """A table cell as text, as the numeric table shows it: whole counts without decimals, blank when missing."""
    if _missing(value):
        return ""
    v = float(value)
    return str(int(v)) if counts and v.is_integer() else f"{v:.{decimals}f}"


def table_csv(frame: pd.DataFrame) -> bytes:
    """The table as CSV (UTF-8): blanks for missing values, numbers exactly as rounded for display."""
    return frame.to_csv(index=False).encode("utf-8")


def column_formats(frame: pd.DataFrame, decimals: int) -> dict[str, str]:
    """printf formats that display each numeric table column exactly as it is exported (at the column's own
    decimals where table_frame set them, else ``decimals``)."""
    places = frame.attrs.get("decimals", {})
    return {c: "%d" if pd.api.types.is_integer_dtype(frame[c]) else f"%.{places.get(c, decimals)}f"
            for c in TABLE_COLUMNS[1:-1] if pd.api.types.is_numeric_dtype(frame[c])}  # 'c' columns are text


# --- figures --------------------------------------------------------------------------------------------

def _month_start(periods: Iterable[str]) -> list[pd.Timestamp]:
    return [pd.Timestamp(first_day(p)) for p in periods]


# The product's type on every figure: the sparklines take it without the plotly_white template (see sparkline).
TYPE_LAYOUT = {"font": {"family": FONT, "color": TEXT, "size": 14}, "hoverlabel": {"font": {"family": FONT}}}


AXIS_TEXT = DARK_GREY  # 10.4:1 on white; Streamlit's chart theme would draw ticks in #808495 (3.7:1, under AA)


def readable_text(fig: go.Figure) -> go.Figure:
    """Axis ticks and titles, legend and figure title in dark text, set on the figure itself so that Streamlit's
    chart theme (whose template colours axis text #808495) cannot lower them below WCAG AA's 4.5:1."""
    fig.update_xaxes(tickfont_color=AXIS_TEXT, title_font_color=TEXT)
    fig.update_yaxes(tickfont_color=AXIS_TEXT, title_font_color=TEXT)
    fig.update_layout(legend_font_color=TEXT, title_font_color=TEXT)
    return fig


def _base_layout(fig: go.Figure) -> go.Figure:
    fig.update_layout(template="plotly_white", **TYPE_LAYOUT)
    return readable_text(fig)


def plan_line(trajectory: Sequence[float | None] | None, target) -> tuple[str | None, list[float | None]]:
    """What a sparkline draws of the plan over its months: ('trajectory', the planned values) when the plan has a
    trajectory in any of them, else ('target', the target in every month) when there is a target, else (None, [])."""
    planned = [None if _missing(v) else float(v) for v in (trajectory or [])]
    if any(v is not None for v in planned):
        return "trajectory", planned
    if not _missing(target):
        return "target", [float(target)] * len(planned)
    return None, []


PLAN_LINE_TEXT = {"trajectory": "The dashed line is the plan's trajectory for these months.",
                  "target": "The dashed line is the plan's target."}


def sparkline(values: Sequence[float | None], periods: Sequence[str], unit: str, decimals: int,
              trajectory: Sequence[float | None] | None = None, target=None) -> go.Figure:
    """A small line of recent monthly values, latest point marked; no axes, hover shows month and value. Under it,
    dashed in the plan's colour, the plan's trajectory over those months, or its target where it has no trajectory
    then (:func:`plan_line`); a KPI without a plan shows its values alone.

    Built in one constructor call with the empty "none" template: the board draws one per KPI, and copying the
    plotly_white template into each (it styles axes and grid, which a sparkline hides) was most of a page render.
    """
    x = _month_start(periods)
    y = [None if _missing(v) else v for v in values]
    text = [f"{format_period(p)}: {format_value(v, unit, decimals)}" for p, v in zip(periods, y, strict=True)]
    data = []
    kind, planned = plan_line([None] * len(x) if trajectory is None else trajectory, target)
    if kind is not None:
        word = "planned" if kind == "trajectory" else "target"
        data.append(go.Scatter(x=x, y=planned, mode="lines", connectgaps=False, name=kind.capitalize(),
                               line={"color": SERIES["plan"], "width": 1.5, "dash": "dash"}, hoverinfo="text",
                               hovertext=[f"{format_period(p)}: {word} {format_value(v, unit, decimals)}"
                                          for p, v in zip(periods, planned, strict=True)]))
    data.append(go.Scatter(x=x, y=y, mode="lines", line={"color": DARK_BLUE, "width": 2}, connectgaps=False,
                           hovertext=text, hoverinfo="text", name="Monthly value"))
    last = next((i for i in range(len(y) - 1, -1, -1) if y[i] is not None), None)
    if last is not None:
        data.append(go.Scatter(x=[x[last]], y=[y[last]], mode="markers", hoverinfo="skip", name="Latest",
                               marker={"color": DARK_BLUE, "size": 7}))
    span = [x[0] - pd.DateOffset(days=10), x[-1] + pd.DateOffset(days=20)] if x else None
    return go.Figure(data, layout={
        "template": "none", **TYPE_LAYOUT, "height": 60, "margin": {"l": 4, "r": 8, "t": 6, "b": 6},
        "showlegend": False, "xaxis": {"visible": False, "range": span}, "yaxis": {"visible": False},
        "plot_bgcolor": "rgba(0,0,0,0)", "paper_bgcolor": "rgba(0,0,0,0)"})


TREND_MONTHS = 6  # the chart alternatives' trend: the judged figure now against this many months before


def chart_alt(name: str, unit: str, decimals: int, basis: str, period: str, recent: Sequence[float | None],
              trajectory: float | None = None, target: float | None = None, target_period: str | None = None,
              status: str | None = None, polarity: str = "up", months: int = TREND_MONTHS,
              recent_trajectory: Sequence[float | None] | None = None) -> str:
    """A chart's text alternative that states its point: the judged figure for ``period`` (on the plan's basis)
    against the month's trajectory (with the status) and the target, and the trend over the last ``months``.
    With ``recent_trajectory`` (a sparkline's), it also says which plan line the chart draws (:func:`plan_line`).

    ``recent`` holds the judged figures of consecutive months ending at ``period`` (series.scorecard's "recent").
    'EHCPs within 20 weeks (excl. exceptions): 45.4% over the 12 months to June 2024 against a planned 49.2%
    (off track), target 49.2% by January 2024; rising over the last 6 months, from 40.1%: an improvement.'"""
    values = [None if _missing(v) else float(v) for v in recent]
    when = format_period(period)
    value = values[-1] if values else None
    told = telling_decimals(value, trajectory, decimals)
    if value is None:
        why = "not shown (small numbers)" if status == "suppressed" else "no value"
        text = f"{name}: {why} for {when}"
    else:
        over = f"over the 12 months to {when}" if basis == "rolling_12m" else f"in {when}"
        text = f"{name}: {format_value(value, unit, told)} {over}"
    if not _missing(trajectory):
        said = STATUS_LABELS.get(status, "").replace(" (not judged)", ", not judged").lower()
        judged = f" ({said})" if said and value is not None else ""
        text += f" against a planned {format_value(trajectory, unit, told)}{judged}"
    if not _missing(target) and isinstance(target_period, str):
        text += (", target" if not _missing(trajectory) else "; target")
        text += f" {format_value(target, unit, decimals)} by {format_period(target_period)}"
    elif _missing(trajectory):
        text += "; no plan target"
    window = values[-months - 1:]
    start = next((i for i, v in enumerate(window) if v is not None), None)
    if value is not None and start is not None and start < len(window) - 1:
        span, base = len(window) - 1 - start, window[start]
        delta = round(value - base, decimals)
        since = f"over the last {span} months" if span > 1 else "since last month"
        if delta == 0:
            text += f"; unchanged {since}"
        else:
            better = is_improvement(delta, polarity)
            text += (f"; {'rising' if delta > 0 else 'falling'} {since}, from {format_value(base, unit, decimals)}"
                     f": {'an improvement' if better else 'a deterioration'}")
    kind = plan_line(recent_trajectory, target)[0] if recent_trajectory is not None else None
    return text + "." + (f" {PLAN_LINE_TEXT[kind]}" if kind else "")


def trajectory_alt(rows: pd.DataFrame, kpi: KpiDefinition, period: str, months: int = TREND_MONTHS) -> str:
    """chart_alt for one KPI's series (the trajectory chart's rows), at the chosen month."""
    rows = rows[rows["period"] <= period].sort_values("period")
    here = rows[rows["period"] == period]
    trajectory, status = (here["trajectory"].iloc[0], here["status"].iloc[0]) if len(here) else (None, None)
    by_month = dict(zip(rows["period"], rows[kpi.basis_column], strict=True))
    recent = [by_month.get(add(period, -k)) for k in range(months, -1, -1)]
    plan = kpi.plan
    return chart_alt(kpi.short_name, kpi.unit, kpi.decimals, kpi.basis, period, recent, trajectory,
                     plan.target.value if plan else None, plan.target.period if plan else None,
                     status, kpi.polarity, months)


def _hover(row, kpi: KpiDefinition) -> str:
    """A month's point: its figure (for a rolling KPI the 12 months judged, then the month alone), the trajectory
    at decimals that tell them apart, and the status."""
    judged = getattr(row, kpi.basis_column)
    told = telling_decimals(judged, row.trajectory, kpi.decimals)
    rolling = kpi.basis == "rolling_12m"
    basis = format_basis(row.numerator, row.denominator, kpi.unit, row.median)
    month = f"{format_value(row.value, kpi.unit, kpi.decimals if rolling else told)} ({basis})"
    lines = [f"<b>{format_period(row.period)}</b>"]
    lines += [f"12 months: {format_value(judged, kpi.unit, told)}", f"Month alone: {month}"] if rolling else [month]
    if row.status == "suppressed":  # kpi/access/suppress.py: never 'none in the month' for a hidden small count
        lines[1:] = ["c: suppressed (small numbers)"]
    if not _missing(row.trajectory):
        lines.append(f"Trajectory {format_value(row.trajectory, kpi.unit, told)}")
    if not _missing(row.status):
        lines.append(status_text(row.status))
    return "<br>".join(lines)


def _add_plan(fig: go.Figure, rows: pd.DataFrame, full: pd.DataFrame, kpi: KpiDefinition, window: PlanWindow,
              x: list[pd.Timestamp]) -> None:
    """The plan on the trajectory chart, all in the plan's colour: trajectory, baseline and milestones, the target
    (a dotted line, and its star in the legend), then the status markers on the judged figures of ``rows`` (the
    months shown); the trajectory runs over every planned month of ``full``."""
    d, unit, colour, plan = kpi.decimals, kpi.unit, SERIES["plan"], kpi.plan
    planned = full[full["trajectory"].notna()]
    fig.add_trace(go.Scatter(
        x=_month_start(planned["period"]), y=planned["trajectory"], name="Trajectory (plan)", mode="lines",
        line={"color": colour, "width": 2, "dash": "dash"}, hoverinfo="skip"))
    points = [p for p in plan_points(kpi) if p[0] != "Target"]
    fig.add_trace(go.Scatter(
        x=_month_start(p[1] for p in points), y=[p[2] for p in points], name="Baseline and milestones",
        mode="markers", marker={"symbol": "square", "size": 9, "color": "white", "line": {"color": colour,
                                                                                      "width": 2}},
        hovertext=[f"{label} {format_value(v, unit, d)} ({format_period(p)})" + (f"<br>{note}" if note else "")
                   for label, p, v, note in points], hoverinfo="text"))
    target = plan.target
    tx = _month_start([target.period])[0]
    x_start, x_end = min(pd.Timestamp(first_day(window.start)), tx), max(x[-1], tx) if x else tx
    label = f"Target: {format_value(target.value, unit, d)} by {format_period(target.period)}"
    fig.add_trace(go.Scatter(
        x=[x_start, x_end], y=[target.value] * 2, name=f"{label} (line)", mode="lines", legendgroup="target",
        showlegend=False,
        line={"color": colour, "width": 1.5, "dash": "dot"}, hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=[tx], y=[target.value], name=label, mode="markers", legendgroup="target",
        marker={"symbol": "star", "size": 14, "color": colour},
        hovertext=[f"{label}<br>{target.source}"], hoverinfo="text"))
    for code, (symbol, status_colour) in STATUS_MARKERS.items():
        hit = rows[rows["status"] == code]
        if hit.empty:
            continue
        fig.add_trace(go.Scatter(
            x=_month_start(hit["period"]), y=hit[kpi.basis_column], name=status_text(code), mode="markers",
            hoverinfo="skip",
            marker={"symbol": symbol, "size": 11, "color": status_colour, "line": {"color": TEXT, "width": 1}}))


def _mark_selected(fig: go.Figure, selected: str, window: PlanWindow | None, x: list[pd.Timestamp]) -> None:
    """The chosen month as a line, and the months after it greyed: not yet known in that month."""
    sx = pd.Timestamp(first_day(selected))
    fig.add_shape(type="line", x0=sx, x1=sx, y0=0, y1=1, yref="paper", name="selected period",
                  line={"color": DARK_GREY, "width": 1.5, "dash": "dashdot"})
    last = max([*x, *([pd.Timestamp(first_day(window.end))] if window is not None else [])])
    if sx < last:
        fig.add_vrect(x0=pd.Timestamp(last_day(selected)), x1=last + pd.DateOffset(days=20), fillcolor=AFTER_FILL,
                      line_width=0, layer="below", name="after the selected period")
    fig.add_annotation(x=sx, y=1, yref="paper", text=f"As at {format_period(selected)}", showarrow=False,
                       yanchor="bottom", xanchor="right", font={"color": DARK_GREY, "size": 12})  # over the past


def _label_window(fig: go.Figure, window, x_from: pd.Timestamp, x_to: pd.Timestamp) -> None:
    """Name the shaded plan window inside the plot: from the window's start when it opens in the left half of the
    range shown, else ending at its visible right edge, so the label never runs past the plot on a narrow screen."""
    opens, closes = pd.Timestamp(first_day(window.start)), pd.Timestamp(last_day(window.end))
    left_half = opens <= x_from + (x_to - x_from) / 2
    x = max(opens, x_from) if left_half else min(closes, x_to)
    fig.add_annotation(x=x, y=1, xref="x", yref="paper", yanchor="top", xanchor="left" if left_half else "right",
                       text="APP monitoring window", showarrow=False, font={"color": DARK_GREY, "size": 12})


def trajectory_figure(rows: pd.DataFrame, kpi: KpiDefinition, window: PlanWindow | None,
                      selected: str | None = None, show_rolling: bool = True, history_months: int = 24) -> go.Figure:
    """Monthly actual values against the plan: trajectory (dashed), target (dotted, its star in the legend), status
    markers, the rolling 12-month line, the plan window shaded. With ``selected``, the chart shows that month as it
    stood: the figures stop there and the months after it are greyed (the plan, known then, runs on). The view
    opens on the plan window with ``history_months`` before it; the whole history is there to zoom out to.
    ``window`` None (an area without a plan): the figures alone, no window, trajectory or target, the view opening
    on the last ``history_months`` + 12 months."""
    rows = rows.sort_values("period").reset_index(drop=True)
    full, everything = rows, _month_start(rows["period"])
    if selected:
        rows = rows[rows["period"] <= selected].reset_index(drop=True)
    x = _month_start(rows["period"])
    fig = go.Figure()
    d, unit = kpi.decimals, kpi.unit

    rolling_judged = kpi.basis == "rolling_12m"
    if (show_rolling or rolling_judged) and rows["rolling_12m"].notna().any():
        fig.add_trace(go.Scatter(
            x=x, y=rows["rolling_12m"], mode="lines",
            name="Rolling 12 months (judged against the plan)" if rolling_judged else "Rolling 12 months",
            line={"color": SERIES["rolling"], "width": 3 if rolling_judged else 2},
            hovertemplate=f"Rolling 12 months %{{y:,.{d}f}}<extra></extra>"))
    if rows["median"].notna().any():
        fig.add_trace(go.Scatter(
            x=x, y=rows["median"], name="Median (monthly)", mode="lines",
            line={"color": SERIES["area"], "width": 2, "dash": "dot"},
            hovertemplate=f"Median %{{y:,.{d}f}}<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=x, y=rows["value"], name="Monthly value" if rolling_judged else "Actual (monthly)",
        mode="lines+markers", connectgaps=False, opacity=0.6 if rolling_judged else 1,
        line={"color": SERIES["area"], "width": 1.5 if rolling_judged else 2.5},
        marker={"color": SERIES["area"], "size": 4 if rolling_judged else 5},
        hovertext=[_hover(r, kpi) for r in rows.itertuples()], hoverinfo="text"))

    if kpi.plan is not None and window is not None:
        _add_plan(fig, rows, full, kpi, window, everything)

    if window is not None:
        fig.add_vrect(x0=pd.Timestamp(first_day(window.start)), x1=pd.Timestamp(last_day(window.end)),
                      fillcolor=PLAN_WINDOW_FILL, line_width=0, layer="below", name="plan window")
    if selected:
        _mark_selected(fig, selected, window, everything)
    x, rows = everything, full
    _base_layout(fig)
    opens = pd.Timestamp(first_day(window.start)) if window is not None else (x[-1] if x else None)
    start = max(x[0], opens - pd.DateOffset(months=history_months + (12 if window is None else 0))) if x else None
    end = x[-1] + pd.DateOffset(days=20) if x else None
    top = max([v for v in (rows["value"].max(), rows["trajectory"].max(), rows["rolling_12m"].max(),
                           kpi.plan.target.value if kpi.plan and window else None) if not _missing(v)], default=1)
    if window is not None and start is not None:
        _label_window(fig, window, start - pd.DateOffset(days=20), end)
    fig.update_layout(
        height=460, margin={"l": 10, "r": 10, "t": 60, "b": 10}, hovermode="closest",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "xanchor": "left", "x": 0,
                "font": {"size": 13}},
        xaxis={"range": [start - pd.DateOffset(days=20), end] if start is not None else None, "title": None,
               "showgrid": False, "tickformat": "%b %Y", "ticks": "outside"},
        yaxis={"title": axis_title(kpi), "rangemode": "tozero",
               "range": [0, 100] if unit == "percent" else [0, top * 1.1], "gridcolor": GRID},
    )
    return readable_text(fig)  # again: a string axis title replaces the title's font
