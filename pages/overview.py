"""Overview: every KPI for the chosen month, grouped by APP area, with status in words and symbols."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi.charts import (
    STATUS_ORDER,
    format_basis,
    format_change,
    format_period,
    format_value,
    recent_periods,
    sparkline,
    sparkline_alt,
    status_counts,
    status_summary,
    status_text,
)
from kpi.series import scorecard
from kpi.trajectory import month_index, period_of
from pages import _shared as ui

ctx = ui.context()
cat, period = ctx.catalogue, ctx.period
card = scorecard(ctx.series, cat, period)
medians = ctx.series[ctx.series["period"] == period].set_index("kpi_id")["median"]
previous = format_period(period_of(month_index(period) - 1))

st.header(f"Overview: {format_period(period)}", anchor=False)
st.markdown(f"**{status_summary(card['status'], period)}**. Each KPI's value for the month is compared with "
            "the plan's trajectory for that month.")

counts = status_counts(card["status"])
tiles = [s for s in STATUS_ORDER if s != "no_data" or counts[s]] + (["not_in_plan"] if counts["not_in_plan"] else [])
for col, code in zip(st.columns(len(tiles)), tiles, strict=True):
    label = status_text(None if code == "not_in_plan" else code)
    col.markdown(f'<div class="kpi-tile {code}"><div class="count">{counts[code]}</div>'
                 f'<div class="what">{ui.esc(label)}</div></div>', unsafe_allow_html=True)

COLUMNS = [2.9, 1.3, 1.25, 1.75, 1.6, 1.6]
for area in cat.app_areas:
    rows = card[card["app_area"] == area.name]
    st.subheader(area.name, anchor=False, divider="gray")
    if rows.empty:
        st.caption("No KPI for this APP area is in the dashboard yet.")
        continue
    for r in rows.itertuples():
        kpi = cat.get(r.kpi_id)
        unit, d = r.unit, r.decimals
        target = (f"Target {format_value(r.target, unit, d)} by {format_period(r.target_period)}"
                  f" ({r.target_source})" if isinstance(r.target_period, str) else "No plan target")
        with st.container(border=True, key=f"kpi_{r.kpi_id}"):
            c = st.columns(COLUMNS, vertical_alignment="center")
            c[0].markdown(f'<p class="kpi-name">{ui.esc(kpi.name)}</p><p class="kpi-note">{ui.esc(target)}</p>',
                          unsafe_allow_html=True)
            c[0].page_link("pages/kpi_trajectory.py", label="Trajectory and definition", icon=":material/show_chart:",
                           query_params={"kpi": r.kpi_id, "period": period})
            c[1].markdown(ui.cell(format_period(period), format_value(r.value, unit, d),
                                  format_basis(r.numerator, r.denominator, unit, medians.get(r.kpi_id))),
                          unsafe_allow_html=True)
            c[2].markdown(ui.cell("Trajectory", format_value(r.trajectory, unit, d),
                                  "planned for the month" if pd.notna(r.trajectory) else "no plan this month",
                                  size="mid"), unsafe_allow_html=True)
            c[3].markdown('<p class="kpi-label">Status</p>' + ui.status_badge(r.status, status_text(r.status)),
                          unsafe_allow_html=True)
            c[4].markdown(ui.cell("Since last month", format_change(r.change, unit, d, r.polarity),
                                  f"from {format_value(r.value - r.change, unit, d)} in {previous}"
                                  if pd.notna(r.change) else None, size="small"), unsafe_allow_html=True)
            with c[5]:
                months = recent_periods(period, len(r.recent))
                st.markdown('<p class="kpi-label">Last 13 months</p>', unsafe_allow_html=True)
                if any(pd.notna(v) for v in r.recent):
                    st.plotly_chart(sparkline(r.recent, months, unit, d), config={"displayModeBar": False},
                                    key=f"spark_{r.kpi_id}", alt=sparkline_alt(r.recent, months, unit, d))
                else:
                    st.markdown('<p class="kpi-note">No values in these months</p>', unsafe_allow_html=True)

st.caption("Status compares the month's value with the plan's trajectory for that month: ✔ On track (as good as "
           "planned or better), ◐ Within tolerance (worse than planned by no more than the KPI's tolerance), "
           "✖ Off track (worse than that), – No data (the plan expects a value but none was recorded). "
           "Rates are percentages of the events completed in the month.")
