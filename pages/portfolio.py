"""Portfolio (monitors and analysts): for the chosen month, one row per area with a plan (the plan, its month, how
many KPIs are on track, within tolerance, off track or without data, which are off track, the data's as-at date)
with a link to each area's Overview; one KPI's actual against trajectory across the areas; a CSV download."""

from __future__ import annotations

import streamlit as st

from kpi.views.charts import format_period, table_csv
from kpi.views.exports import portfolio_export
from kpi.views.portfolio import chart_alt, off_track_list, portfolio, small_multiples
from pages import _audit as audit
from pages import _auth as auth
from pages import _data as data
from pages import _session as session
from pages import _style as style

PAGE = "portfolio"

user = auth.require(PAGE)
ctx = session.context()
period = ctx.period
style.page_title(f"Portfolio · {format_period(period)}")
st.header(f"Portfolio · {format_period(period)}", anchor=False)

codes = [code for code, _ in ctx.areas]  # the areas this user may see (app.py keeps to their assignment)
book = data.plan_book()
series, names, as_at = data.portfolio_inputs(data.db_path(), user.role, codes)
rows = portfolio(series, book, period, names, as_at, codes)
if rows.empty:
    st.info("None of your local areas has a plan (plans/<ONS code>.yaml): there is no portfolio to show.",
            icon=":material/grid_view:")
    st.stop()

st.markdown(f"Each of your {len(rows)} areas with a plan, judged in {format_period(period)} against its own plan "
            "in force. *No data*: the plan expects a figure and there is none; *not judged*: a baseline or partial "
            "month, too few events, or a suppressed figure.")
if rows["demo"].any():
    st.caption("Plans marked (demo) are synthetic, shipped with the region demo data: not real areas' plans.")
shown = rows.assign(overview="?" + ("area=" + rows["area_code"] + f"&period={period}"))
shown["overview"] = "/?" + shown["overview"].str.lstrip("?")
st.dataframe(  # the verdict first (visible without scrolling at 1,400 px), the details after it
    shown, hide_index=True, width="stretch",
    column_order=["area_name", "overview", "plan_month", "freshness", "on_track", "within_tolerance", "off_track",
                  "no_data", "not_judged", "off_track_names", "as_at", "plan"],
    column_config={
        "area_name": st.column_config.TextColumn("Area", width=150),
        "overview": st.column_config.LinkColumn("Overview", display_text="Open", width=75),
        "plan_month": st.column_config.TextColumn("Month of plan", width=105),
        "freshness": st.column_config.TextColumn(
            "Freshness", width=110, help=f"Whether the area's newest extract covers {format_period(period)} in full"),
        "on_track": st.column_config.NumberColumn("On track", width=75),
        "within_tolerance": st.column_config.NumberColumn("Within tolerance", width=120),
        "off_track": st.column_config.NumberColumn("Off track", width=75),
        "no_data": st.column_config.NumberColumn("No data", width=70),
        "not_judged": st.column_config.NumberColumn("Not judged", width=90),
        "off_track_names": st.column_config.TextColumn("KPIs off track", width="large"),
        "as_at": st.column_config.DateColumn("Data as at", format="D MMM YYYY", width=100),
        "plan": st.column_config.TextColumn("Plan", width="large"),
    })
if listed := off_track_list(rows, period):
    st.markdown(listed)
st.download_button("Download the portfolio (CSV)", table_csv(portfolio_export(rows, period)),
                   file_name=f"portfolio_{period}.csv", mime="text/csv", icon=":material/download:",
                   key="portfolio_download", on_click=audit.download,
                   args=(PAGE, f"portfolio_{period}.csv", len(rows)))

st.subheader("One KPI across the areas", anchor=False)
areas = list(rows["area_code"])
in_plans = {kpi_id for a in areas for kpi_id in book.in_force(a, period).kpis}
planned = [k for k in ctx.catalogue.kpis if k.id in in_plans]
if not planned:
    st.info("No KPI is in any of these areas' plans this month.")
    st.stop()
kpi = st.selectbox("KPI", planned, format_func=lambda k: k.short_name, key="portfolio_kpi")
st.plotly_chart(small_multiples(series, book, kpi.id, period, names, areas), key="portfolio_chart",
                config={"displayModeBar": False})
st.caption(chart_alt(kpi.short_name, period, areas, names))
