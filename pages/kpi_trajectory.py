"""KPI trajectory: one KPI's monthly values against its plan, its Making Data Count XmR chart over the whole
history with variation, assurance and the forecast for the target month, its definition, and the data as a table
or CSV."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi.area_plans import NO_PLAN
from kpi.definitions import MEDIAN_METHODS
from kpi.engine.series import scorecard
from kpi.views.benchmark_charts import comparison_figure
from kpi.views.board import board_row, spc_for
from kpi.views.charts import (
    basis_text,
    column_formats,
    format_amount,
    format_basis,
    format_change,
    format_period,
    format_value,
    plan_points,
    polarity_text,
    status_text,
    table_csv,
    table_frame,
    telling_decimals,
    trajectory_alt,
    trajectory_figure,
)
from kpi.views.comparison import comparison_wide, local_calendar_years
from kpi.views.exports import trajectory_export
from kpi.views.icons import assurance_svg, variation_svg
from kpi.views.spc_chart import spc_figure, spc_method_text
from pages import _audit as audit
from pages import _auth as auth
from pages import _data as data
from pages import _html as html
from pages import _notes as notes_ui
from pages import _session as session
from pages import _states as states
from pages import _style as style
from pages import _url as url
from pages import _widgets as widgets

ctx = session.context()
ctx_db = data.db_path()
cat, period = ctx.catalogue, ctx.period
# The area's plan window, shaded on the charts; None for an area without a plan (no other area's window is drawn).
plan_window = cat.plan_window if ctx.area is None or data.plan_book().has_plan(ctx.area) else None
published = [m.id for m in cat.published_measures]  # annual, published only: no monthly series or plan
short = {k.id: k.short_name for k in [*cat.kpis, *cat.published_measures]}
short.update({m: f"{short[m]} (published annually)" for m in published})
choices = [*cat.ids, *published]

note = url.choose_from_url("kpi", choices, cat.ids[0], lambda i: short[i], "the KPI")
kpi_id = st.selectbox("KPI", choices, key="kpi", format_func=short.get, persist_state="session", width=520)
url.write_to_url("kpi", kpi_id)
if note:
    st.info(note, icon=":material/link_off:")

if kpi_id in published:
    measure = cat.measure(kpi_id)
    style.page_title(f"KPI trajectory: {measure.short_name}")
    st.header(measure.name, anchor=False)
    st.caption(f"Published annually by DfE · {polarity_text(measure.polarity)} · no monthly series, plan or status: "
               "the case records do not hold every decision it counts")
    comparison = data.kpi_comparison(ctx_db, kpi_id, ctx.area)
    if comparison.problem:
        states.comparison_problem(comparison, warning=True)
    else:
        st.plotly_chart(comparison_figure(measure, comparison.area, comparison.history,
                                          local_calendar_years(ctx.series.iloc[0:0]), None),
                        key="comparison", config={"displaylogo": False},
                        alt=f"Line chart of {measure.short_name} by calendar year for {comparison.area.name}, "
                            "England, the region and statistical neighbours (DfE published figures).")
        with st.expander("Rank and quartile by year (table)"):
            widgets.comparison_table(comparison_wide(comparison.history, local_calendar_years(ctx.series.iloc[0:0]),
                                                comparison.area))
    st.subheader("About this measure", anchor=False)
    st.markdown(f"{measure.description}\n\n- **Statutory basis:** {measure.statutory_basis}\n"
                f"- **Source:** {measure.source}\n- **Owner:** {measure.owner}\n- **Id:** `{measure.id}`")
    if auth.can_open("benchmarks"):
        st.page_link("pages/benchmarks.py", label=f"Every neighbour and rank for {measure.short_name} on Benchmarks",
                     icon=":material/leaderboard:", query_params={"kpi": kpi_id})
    st.stop()

kpi = cat.get(kpi_id)
rows = ctx.series[ctx.series["kpi_id"] == kpi_id]
now = scorecard(rows, cat, period).set_index("kpi_id").loc[kpi_id]
median = rows.loc[rows["period"] == period, "median"]
unit, d = kpi.unit, kpi.decimals

style.page_title(f"KPI trajectory: {kpi.short_name}")
st.header(kpi.short_name, anchor=False)  # as the selector, the tab title and the Overview's card name it
st.caption(f"{kpi.name} · APP area {cat.area_name(kpi.app_area)} · {polarity_text(kpi.polarity)}")
if auth.can_open("explain") and kpi_id in cat.event_ids:  # Explain reads SEN2 events; waits are referrals
    st.page_link("pages/explain.py", label=f"Explain the {format_period(period)} figure: its SQL, counts, loads "
                 "and records", icon=":material/manage_search:", query_params={"kpi": kpi_id, "period": period})

with st.container(border=True):
    c = st.columns([1.4, 1.2, 1.4, 1.6, 1.6])
    hidden = now.status == "suppressed"
    told = telling_decimals(now.value, now.trajectory, d)  # never '60.0%' against '60.0%' when they differ
    if kpi.basis == "rolling_12m":
        c[0].markdown(html.cell(f"12 months to {format_period(period)}",
                              format_value(now.value, unit, told, suppressed=hidden),
                              format_basis(now.numerator, now.denominator, unit, suppressed=hidden)
                              + f" · {format_period(period)} alone: "
                              + format_value(now.monthly_value, unit, d, suppressed=hidden)),
                      unsafe_allow_html=True)
    else:
        c[0].markdown(html.cell(format_period(period), format_value(now.value, unit, told, suppressed=hidden),
                              format_basis(now.numerator, now.denominator, unit,
                                           median.iloc[0] if len(median) else None, suppressed=hidden)),
                      unsafe_allow_html=True)
    c[1].markdown(html.cell("Trajectory", format_value(now.trajectory, unit, told), "planned for the month"
                          if pd.notna(now.trajectory) else "no plan this month", size="mid"), unsafe_allow_html=True)
    planned = isinstance(now.target_period, str)  # NaN, not None, for an unplanned KPI under pandas 3
    c[2].markdown(html.cell("Target", format_value(now.target, unit, d),
                          f"by {format_period(now.target_period)}" if planned else "none set", size="mid"),
                  unsafe_allow_html=True)
    judged = now.status if isinstance(now.status, str) else now.unjudged
    c[3].markdown('<p class="kpi-label">Status</p>' + html.status_badge(judged, status_text(judged)),
                  unsafe_allow_html=True)
    c[4].markdown(html.cell("Change since last month", format_change(now.change, unit, d, kpi.polarity), size="mid"),
                  unsafe_allow_html=True)

waits_kpi = kpi_id not in cat.event_ids  # DfE publishes no waiting lists; NHS England's are on their own page
comparison = None if waits_kpi else data.kpi_comparison(ctx_db, kpi_id, ctx.area)


def about_and_plan() -> None:
    """The definition and the plan, written beside the chart so both are read with it."""
    st.subheader("About this indicator", anchor=False)
    st.markdown(kpi.description)
    st.markdown(
        f"- **Polarity:** {polarity_text(kpi.polarity)}\n"
        f"- **Statutory basis:** {kpi.statutory_basis}\n"
        f"- **Source:** {kpi.source}\n"
        f"- **Owner:** {kpi.owner}\n"
        f"- **KPI id:** `{kpi.id}`")
    st.subheader("The plan", anchor=False)
    if kpi.plan is None:
        st.markdown("This KPI is tracked without a plan trajectory.")
    else:
        lines = [f"- **{label}:** {format_value(v, unit, d)} "
                 f"{'in' if label == 'Baseline' else 'by'} {format_period(p)}" + (f" ({txt})" if txt else "")
                 for label, p, v, txt in plan_points(kpi)]
        lines.append(f"- **Tolerance:** up to {format_amount(kpi.plan.tolerance, unit, d)} worse than the trajectory"
                     " counts as within tolerance")
        lines.append(f"- **Judged on:** {basis_text(kpi)}")
        lines.append(f"- **Fewest events for a status:** {kpi.plan.min_denominator or cat.status_min_denominator}"
                     if not kpi.is_snapshot else "- **Status** is judged at each month end")
        if period > kpi.plan.target.period:
            lines.append(f"- **After the plan:** the target month ({format_period(kpi.plan.target.period)}) has "
                         "passed: figures are set against the final target")
        st.markdown("\n".join(lines))
        if comparison is not None and comparison.target is not None:
            st.markdown(comparison.target.sentence(kpi))
        st.caption("The trajectory runs in a straight line from the baseline through each milestone to the target, "
                   "and holds at the target after it.")


table = table_frame(rows, kpi, upto=period)
controls = st.columns([1, 2, 2], vertical_alignment="bottom")
chart_column, about_column = st.columns([2.3, 1], gap="large")
with about_column:
    about_and_plan()
view = controls[0].segmented_control("Show as", ["Chart", "Table"], default="Chart", key="view", required=True)
if view == "Table":
    chart_column.dataframe(table, hide_index=True, width="stretch", height=440, placeholder="–", column_config={
        c: st.column_config.NumberColumn(c, format=f) for c, f in column_formats(table, d).items()}
        | widgets.whole_cells("Status", "Complete month", "Judged on"))
    unit_note = {"percent": "Value, rolling 12-month, trajectory and target are percentages.",
                 "weeks": "Value is the median weeks waited by those waiting at month end (the denominator)."
                 if kpi.computation.method in MEDIAN_METHODS else
                 "Numerator is total weeks; value, trajectory and target are mean weeks.",
                 "count": "Counts at month end; there is no denominator or rolling value."}[unit]
    judged = ("the rolling 12-month figure" if kpi.basis == "rolling_12m" else "the month's value")
    chart_column.caption(f"{unit_note} Status compares {judged} with the trajectory (the plan's basis); a partial "
                         "month (Complete month: No) has no status.")
else:
    has_rolling = bool(rows["rolling_12m"].notna().any())
    rolling = controls[1].toggle("Show rolling 12-month line", value=True, key="rolling",
                                 disabled=not has_rolling or kpi.basis == "rolling_12m",
                                 help="The rate over the 12 months to each month (December = calendar year)."
                                 if has_rolling else "Counts at month end have no rolling value.")
    fig = trajectory_figure(rows, kpi, plan_window, period, show_rolling=rolling and has_rolling)
    chart_column.plotly_chart(fig, key="trajectory", config={"displaylogo": False,
                              "modeBarButtonsToRemove": ["select2d", "lasso2d"]}, alt=trajectory_alt(rows, kpi, period))
    chart_column.caption(f"The figures as they stood in {format_period(period)}: later months are greyed. "
                         + ("The shaded band is the APP monitoring window; the chart opens two years before it "
                            if plan_window else f"{NO_PLAN}; the chart opens on the last three years ")
                         + "(double-click the chart to see every month). Marker shape shows status: ● on track, "
                         "◆ within tolerance, ✖ off track. The table view lists every month to "
                         f"{format_period(period)}.")
controls[2].download_button("Download the monthly figures (CSV)",
                            table_csv(trajectory_export(table, kpi, data.access_config().suppression)),
                            file_name=f"{kpi.id}_monthly.csv",
                            mime="text/csv", icon=":material/download:", key="download", on_click=audit.download,
                            args=("kpi_trajectory", f"{kpi.id}_monthly.csv", len(table)))

st.subheader(f"Commentary and actions: {format_period(period)}", anchor=False, divider="gray")
notes_ui.notes_panel(data.meeting_notes(ctx.area, kpi_id), kpi_id, period, ctx.area, "kpi_trajectory", key="notes",
                     forms_collapsed=True)

st.subheader("Statistical process control", anchor=False, divider="gray")
spc_periods, spc = spc_for(rows, kpi, period)
summary = board_row(rows, kpi, period)
icons = st.columns([1.3, 1.3, 1.6, 3.2], vertical_alignment="center")
icons[0].markdown(html.icon_cell("Variation", variation_svg(summary["variation"], 34), summary["variation_label"]),
                  unsafe_allow_html=True)
icons[1].markdown(html.icon_cell("Assurance", assurance_svg(summary["assurance"], 34), summary["assurance_label"]),
                  unsafe_allow_html=True)
icons[2].markdown(html.cell("Forecast for the target month", summary["forecast_label"], summary["forecast_note"],
                          size="small"), unsafe_allow_html=True)
icons[3].markdown(f'<p class="kpi-sentence">{html.esc(summary["sentence"])}</p>', unsafe_allow_html=True)
if spc is None:
    st.info("Too few months with a value for an XmR chart yet.", icon=":material/info:")
else:
    plan_path = dict(zip(rows["period"], rows["trajectory"], strict=True))
    plan_path = {p: float(v) for p, v in plan_path.items() if pd.notna(v)}
    st.plotly_chart(spc_figure(kpi, spc_periods, spc, plan_window, plan_path, period), key="spc",
                    config={"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]},
                    alt=f"XmR chart of {kpi.short_name}: {summary['variation_label']}; {summary['assurance_label']}.")
    st.caption(spc_method_text(kpi, spc_periods, spc))

st.subheader("Compared with England and similar areas", anchor=False, divider="gray")
if waits_kpi:
    st.caption("DfE publishes no figure for therapy and assessment waiting lists. NHS England's published "
               "Community Health Services waiting lists, by provider, are on the Waiting lists page.")
    if auth.can_open("waiting_lists"):
        st.page_link("pages/waiting_lists.py", label="NHS England's waiting lists beside the local ones",
                     icon=":material/hourglass_top:", query_params={"period": period})
elif comparison.problem:
    states.comparison_problem(comparison)
else:
    local = local_calendar_years(rows) if kpi.is_rate else local_calendar_years(rows.iloc[0:0])
    st.plotly_chart(comparison_figure(kpi, comparison.area, comparison.history, local,
                                      kpi.plan.target.value if kpi.plan else None), key="comparison",
                    config={"displaylogo": False},
                    alt=f"Line chart of {kpi.short_name} by calendar year for {comparison.area.name}, England, "
                        "the region and statistical neighbours.")
    st.caption(f"Calendar years. {comparison.area.name}'s line from its case records is December's rolling "
               "12-month value (the figure DfE would publish from the same records); the others are DfE's "
               "published figures. Rank is among all English local areas with a value (1 = best).")
    wide = comparison_wide(comparison.history, local, comparison.area)
    with st.expander("Rank and quartile by year (table)"):
        widgets.comparison_table(wide)
    if auth.can_open("benchmarks"):
        st.page_link("pages/benchmarks.py", label="Every neighbour, rank and reconciliation on the Benchmarks page",
                     icon=":material/leaderboard:", query_params={"kpi": kpi_id})

