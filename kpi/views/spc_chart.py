"""The Making Data Count XmR chart as a plotly figure (pure: no Streamlit).

Points are drawn as one trace per point type, each with its own marker shape and a legend entry naming it, so
the meaning never rests on colour. Mean and process limits are drawn per segment; recalculations are marked
with a number ("①", its month in the legend, its reason on hover and in the method text) so that labels never
collide on a phone; the plan's trajectory and target sit on the same axes; the plan window is shaded, its label on a
row of its own above the plot.
"""

from __future__ import annotations

import plotly.graph_objects as go

from etl.months import add, first_day
from kpi.definitions import KpiDefinition, PlanWindow
from kpi.engine.spc import XmrResult
from kpi.views.charts import axis_title, format_period, format_value, readable_text
from kpi.views.palette import GRID, LIGHT_GREY, PLAN_WINDOW_FILL, SERIES, SPC, TEXT

POINT_STYLE = {
    # point_type: (legend name, colour, marker symbol)
    "common_cause": ("Common cause", SPC["common_cause"], "circle"),
    "improvement": ("Special cause: improvement", SPC["improvement"], "triangle-up"),
    "concern": ("Special cause: concern", SPC["concern"], "diamond"),
    "neutral": ("Special cause: neither", SPC["neutral"], "square"),
}
ROW_PX = 16  # the top margin's two rows of labels: the plan window's, then the recalculations' numbers above it
RULE_NAMES = {"outside": "beyond a process limit", "shift": "run of points on one side of the mean",
              "trend": "run of rising or falling points", "two_of_three": "two of three near a limit"}


def _d(period: str) -> str:
    """Month → the ISO date plotly places on a date axis."""
    return first_day(period).isoformat()


def _segments(periods: list[str], result: XmrResult, column: str) -> tuple[list, list]:
    """x/y for a per-segment horizontal line, broken (None) between segments."""
    xs: list = []
    ys: list = []
    pts = result.points.reset_index(drop=True)
    for _seg, idx in pts.groupby("segment").groups.items():
        idx = list(idx)
        xs += [_d(periods[i]) for i in idx] + [None]
        ys += [float(pts.loc[i, column]) for i in idx] + [None]
    return xs, ys


def _x_range(periods: list[str], window: PlanWindow | None) -> list[str] | None:
    """From a month before the first point to a month after the later of the last point and the plan's end."""
    if not periods:
        return None
    last = max(periods[-1], window.end) if window is not None else periods[-1]
    return [f"{add(periods[0], -1)}-15", f"{add(last, 1)}-15"]


def _hover(kpi: KpiDefinition, period: str, row) -> str:
    rules = [name for col, name in RULE_NAMES.items() if bool(row.get(col))]
    kind = POINT_STYLE[row["point_type"]][0]
    text = f"{format_period(period)}<br>{format_value(row['value'], kpi.unit, kpi.decimals)}<br>{kind}"
    if rules:
        text += "<br>Signal: " + "; ".join(rules)
    return text


def recalculation_mark(n: int) -> str:
    """The ``n``-th recalculation's (from 0) mark on the chart, in its legend and in the method text: ①, ② …"""
    return chr(0x2460 + n)


def _recalculations_shown(kpi: KpiDefinition, periods: list[str]) -> list:
    """The recalculations inside the charted months (the first month starts the first segment anyway)."""
    return [r for r in kpi.spc.recalculations if periods and periods[0] < r.period <= periods[-1]]


def spc_figure(
    kpi: KpiDefinition,
    periods: list[str],
    result: XmrResult,
    window: PlanWindow | None = None,
    trajectory: dict[str, float] | None = None,
    selected: str | None = None,
) -> go.Figure:
    """XmR chart over ``periods`` (one per point of ``result``)."""
    fig = go.Figure()
    pts = result.points.reset_index(drop=True)
    if window is not None:
        fig.add_vrect(x0=_d(window.start), x1=_d(window.end), fillcolor=PLAN_WINDOW_FILL, line_width=0)
        fig.add_annotation(x=_d(window.start), y=1, yref="paper", text="Plan window", showarrow=False,
                           xanchor="left", yanchor="bottom", font={"size": 10, "color": TEXT}, name="plan window")
    dates = [_d(p) for p in periods]
    fig.add_trace(go.Scatter(x=dates, y=pts["value"], mode="lines", line={"color": LIGHT_GREY, "width": 1.5},
                             name="Monthly value", hoverinfo="skip", showlegend=False))
    x, y = _segments(periods, result, "mean")
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name="Mean", line={"color": TEXT, "width": 1.5}))
    if result.points["upl"].notna().any():
        for col, name in (("upl", "Upper process limit"), ("lpl", "Lower process limit")):
            x, y = _segments(periods, result, col)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name,
                                     line={"color": TEXT, "width": 1, "dash": "dash"},
                                     legendgroup="limits", showlegend=col == "upl"))
        fig.data[-2].name = "Process limits"
    for ptype, (name, colour, symbol) in POINT_STYLE.items():
        mask = pts["point_type"] == ptype
        if not mask.any():
            continue
        idx = list(pts.index[mask])
        fig.add_trace(go.Scatter(
            x=[dates[i] for i in idx], y=pts.loc[mask, "value"], mode="markers", name=name,
            marker={"color": colour, "symbol": symbol, "size": 9, "line": {"color": TEXT, "width": 0.5}},
            hovertext=[_hover(kpi, periods[i], pts.loc[i]) for i in idx], hoverinfo="text",
        ))
    if trajectory:
        tx = [p for p in periods if p in trajectory]
        fig.add_trace(go.Scatter(x=[_d(p) for p in tx], y=[trajectory[p] for p in tx], mode="lines",
                                 name="Plan trajectory", line={"color": SERIES["plan"], "width": 2, "dash": "dash"}))
    if kpi.plan is not None:
        target = kpi.plan.target.value
        fig.add_hline(y=target, line={"color": SERIES["plan"], "width": 1.5, "dash": "dot"})
        # The target's label in the right margin, beyond the last point, so it never sits on one.
        fig.add_annotation(x=1, xref="paper", xanchor="left", y=target, yanchor="middle", showarrow=False,
                           text=f"Target {format_value(target, kpi.unit, kpi.decimals)}", align="left",
                           font={"size": 11, "color": SERIES["plan"]}, name="target label")
    for n, r in enumerate(_recalculations_shown(kpi, periods)):
        fig.add_vline(x=_d(r.period), line={"color": TEXT, "width": 1, "dash": "longdashdot"})
        fig.add_annotation(x=_d(r.period), y=1, yref="paper", yshift=ROW_PX if window is not None else 0,
                           text=recalculation_mark(n), showarrow=False, xanchor="center", yanchor="bottom",
                           font={"size": 13, "color": TEXT}, name="recalculation",
                           hovertext=f"Limits recalculated from {format_period(r.period)}: {r.reason}")
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", hoverinfo="skip",
                                 name=f"{recalculation_mark(n)} Limits recalculated, {format_period(r.period)}",
                                 line={"color": TEXT, "width": 1, "dash": "longdashdot"}))
    if selected and selected in periods:
        fig.add_vline(x=_d(selected), line={"color": TEXT, "width": 1, "dash": "dot"})
    fig.update_layout(
        height=450, margin={"l": 10, "r": 90, "t": 40, "b": 10}, plot_bgcolor="#FFFFFF",
        # the legend below the two-line month ticks, clear of them on a phone too (the plot is as tall there)
        legend={"orientation": "h", "y": -0.22, "yanchor": "top"}, hovermode="closest",
        yaxis={"title": axis_title(kpi), "gridcolor": GRID},
        xaxis={"type": "date", "title": None, "nticks": 10, "tickformat": "%b<br>%Y",  # plotly spaces them
               "range": _x_range(periods, window)},
    )
    return readable_text(fig)


METHOD_NAMES = {"mdc": "NHS England Making Data Count rules (Single Chart Tool)",
                "nhsr": "NHSRplotthedots rules (NHS-R Community)"}


def spc_method_text(kpi: KpiDefinition, periods: list[str], result: XmrResult) -> str:
    """How the chart was made, in words: rules, months used, limits' basis and each recalculation with its reason."""
    text = (f"XmR chart of every month with a value from {format_period(periods[0])} to {format_period(periods[-1])}"
            f" ({len(periods)} months; months with no completed events are left out). {METHOD_NAMES[result.method]}: "
            "process limits at the mean ± 2.66 × the average moving range.")
    if result.points["upl"].isna().all():
        text += " With 12 or fewer points there are no limits or signals yet."
    if kpi.spc.baseline:
        text += f" Limits are fixed from the first {kpi.spc.baseline} months."
    shown = _recalculations_shown(kpi, periods)
    if shown and not kpi.spc.baseline:
        text += " Limits recalculated from " + "; ".join(
            f"{recalculation_mark(n)} {format_period(r.period)} ({r.reason})" for n, r in enumerate(shown)) + "."
    return text
