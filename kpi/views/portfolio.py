"""The monitors' portfolio: for one month, one row per area with a plan (which plan, which month of it, how many
KPIs are on track, within tolerance, off track or without data, which are off track, the data's as-at date), and
the small-multiples chart of one KPI's actual against trajectory across those areas. Pure functions: no Streamlit.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kpi.area_plans import PlanBook
from kpi.engine.data_quality import month_freshness
from kpi.engine.trajectory import NO_DATA, OFF_TRACK, ON_TRACK, WITHIN_TOLERANCE
from kpi.views.charts import FONT, format_period
from kpi.views.palette import GRID, SERIES, TEXT

PORTFOLIO_COLUMNS = [
    "area_code", "area_name", "plan", "demo", "plan_start", "plan_end", "plan_month", "on_track",
    "within_tolerance", "off_track", "no_data", "not_judged", "off_track_kpis", "off_track_names", "as_at",
    "freshness",
]


def plan_month_text(plan, period: str) -> str:
    """'7 of 12', or where the month stands outside the window ('before the plan', 'after the plan')."""
    n = plan.month_of(period)
    if n is not None:
        return f"{n} of {plan.length}"
    return "before the plan" if period < plan.start else "after the plan"


def portfolio(series: pd.DataFrame, plans: PlanBook, period: str, names: dict[str, str],
              as_at: dict[str, str | None], areas: list[str] | None = None) -> pd.DataFrame:
    """One row per area with a plan (of ``areas`` when given), in name order. A KPI counts under its status in
    ``period`` under the plan in force; 'no data' when the plan expects a figure and there is none (no row, or
    status no data); 'not judged' when there is a figure but no verdict (baseline or partial month, too few events,
    suppressed). The KPIs off track are listed by id (``off_track_kpis``, for machines) and by short name
    (``off_track_names``, for people). ``freshness`` says how the area's data as at ``as_at`` stands to ``period``
    (kpi.engine.data_quality.month_freshness). ``series`` holds every area's rows, as the reader may see them."""
    wanted = plans.areas if areas is None else [a for a in areas if plans.plans(a)]
    short = {k.id: k.short_name for k in plans.catalogue.kpis}
    month = series[series["period"] == period] if len(series) else series
    by_area = dict(tuple(month.groupby("area_code", sort=False))) if len(month) else {}
    rows = []
    for area in wanted:
        plan = plans.in_force(area, period)
        statuses = {}
        here = by_area.get(area)
        if here is not None:
            statuses = dict(zip(here["kpi_id"], here["status"], strict=True))
        counts = {ON_TRACK: 0, WITHIN_TOLERANCE: 0, OFF_TRACK: 0, NO_DATA: 0, "not_judged": 0}
        off = []
        for kpi_id in plan.kpis:
            st = statuses.get(kpi_id)
            st = None if st is None or (isinstance(st, float) and math.isnan(st)) else st
            if kpi_id not in statuses or st == NO_DATA:
                counts[NO_DATA] += 1
            elif st in counts:
                counts[st] += 1
            else:
                counts["not_judged"] += 1
            if st == OFF_TRACK:
                off.append(kpi_id)
        rows.append({
            "area_code": area, "area_name": names.get(area, area), "plan": plan.name, "demo": plan.demo,
            "plan_start": plan.start, "plan_end": plan.end, "plan_month": plan_month_text(plan, period),
            **counts, "off_track_kpis": ", ".join(off), "off_track_names": "; ".join(short.get(k, k) for k in off),
            "as_at": as_at.get(area),
            "freshness": month_freshness(as_at.get(area), period),
        })
    out = pd.DataFrame(rows, columns=PORTFOLIO_COLUMNS)
    return out.sort_values(["area_name", "area_code"], ignore_index=True)


def off_track_list(rows: pd.DataFrame, period: str) -> str:
    """The KPIs off track, area by area, as a Markdown list to read below the portfolio table (whose cell is too
    narrow for a long list); empty when no area has one."""
    off = rows[rows["off_track_names"].astype(bool)]
    if off.empty:
        return ""
    lines = [f"- **{r.area_name}** ({r.off_track}): {r.off_track_names}" for r in off.itertuples()]
    return f"Off track in {format_period(period)}:\n\n" + "\n".join(lines)


def small_multiples(series: pd.DataFrame, plans: PlanBook, kpi_id: str, period: str, names: dict[str, str],
                    areas: list[str], columns: int = 3) -> go.Figure:
    """One panel per area: the KPI's judged figure (on its plan's basis) against the trajectory of the plan in
    force in ``period``, over that plan's window and the baseline month before it. An area whose plan has no plan
    for the KPI gets an empty panel saying so."""
    n_rows = max(1, math.ceil(len(areas) / columns))
    titles = [names.get(a, a) for a in areas]
    fig = make_subplots(rows=n_rows, cols=columns, subplot_titles=titles, shared_yaxes=False,
                        vertical_spacing=0.5 / n_rows if n_rows > 1 else 0.1, horizontal_spacing=0.06)
    for i, area in enumerate(areas):
        row, col = i // columns + 1, i % columns + 1
        plan = plans.in_force(area, period)
        kpi_plan = plan.kpis.get(kpi_id) if plan else None
        if kpi_plan is None:
            fig.add_annotation(text="No plan for this KPI", showarrow=False, row=row, col=col,
                               xref="x domain", yref="y domain", x=0.5, y=0.5)
            continue
        start, end = kpi_plan.baseline.period, max(plan.end, kpi_plan.target.period)
        rows = series[(series["area_code"] == area) & (series["kpi_id"] == kpi_id)
                      & (series["period"] >= start) & (series["period"] <= min(end, period))]
        column = "rolling_12m" if kpi_plan.basis == "rolling_12m" else "value"
        months = pd.to_datetime(rows["period"] + "-01")
        planned = series[(series["area_code"] == area) & (series["kpi_id"] == kpi_id)
                         & (series["period"] >= start) & (series["period"] <= end)]
        fig.add_trace(go.Scatter(x=pd.to_datetime(planned["period"] + "-01"), y=planned["trajectory"],
                                 mode="lines", line={"color": SERIES["plan"], "dash": "dash"}, name="Trajectory (plan)",
                                 showlegend=i == 0, legendgroup="trajectory"), row=row, col=col)
        fig.add_trace(go.Scatter(x=months, y=pd.to_numeric(rows[column], errors="coerce"), mode="lines+markers",
                                 line={"color": SERIES["rolling" if column == "rolling_12m" else "area"]},
                                 name="Actual (the figure judged)", showlegend=i == 0,
                                 legendgroup="actual"), row=row, col=col)
    fig.update_layout(height=max(260, 230 * n_rows), margin={"l": 40, "r": 10, "t": 60, "b": 70},
                      font={"family": FONT, "color": TEXT}, plot_bgcolor="white",
                      legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yanchor": "bottom",
                              "yref": "container"})
    fig.update_xaxes(tickformat="%b %y", showgrid=False)
    fig.update_yaxes(gridcolor=GRID)
    fig.update_annotations(font={"color": TEXT})  # the areas' names over their charts
    return fig


def chart_alt(kpi_name: str, period: str, areas: list[str], names: dict[str, str]) -> str:
    """A sentence describing the small multiples for screen readers."""
    listed = ", ".join(names.get(a, a) for a in areas)
    return (f"{kpi_name}: actual against trajectory under each area's plan in force in {format_period(period)}, "
            f"one panel per area ({listed}); the table above gives each area's status.")


def read_inputs(con, catalogue, plans: PlanBook, areas: list[str], as_of=None
                ) -> tuple[pd.DataFrame, dict[str, str], dict[str, str | None]]:
    """What :func:`portfolio` needs from the database for ``areas``: their exact series under their own plans, their
    names and their data's as-at dates (the caller applies the reader's suppression)."""
    from kpi.engine.area import area_name, data_as_at
    from kpi.engine.series import kpi_series

    series = kpi_series(con, catalogue, areas=areas, as_of=as_of, plans=plans) if areas else pd.DataFrame(
        columns=["area_code", "kpi_id", "period", "status"])
    as_of_text = as_of.isoformat() if as_of else None
    return series, {a: area_name(a) for a in areas}, {a: data_as_at(con, a, as_of_text)[0] for a in areas}
