"""Benchmarks: the home area beside England, its region and its statistical neighbours on DfE's published figures,
its rank and quartile over the years, and the reconciliation of its own case records with what DfE published."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi.engine.reconcile import COUNT_TOLERANCE, RATE_TOLERANCE_PP
from kpi.views.benchmark_charts import benchmark_bars, comparison_figure, quartile_text, rank_figure
from kpi.views.charts import format_value, table_csv
from kpi.views.comparison import comparison_wide, local_calendar_years
from kpi.views.exports import benchmark_export
from kpi.views.reconcile_view import FIGURES, notes_in_full, reconciliation_shown, reconciliation_table
from pages import _audit as audit
from pages import _data as data
from pages import _html as html
from pages import _session as session
from pages import _states as states
from pages import _style as style
from pages import _url as url
from pages import _widgets as widgets

ctx = session.context()
cat = ctx.catalogue
db = data.db_path()

style.page_title("Benchmarks")
st.header("Benchmarks", anchor=False)
area_code = ctx.area  # the area chosen in the sidebar (the home area by default)

choices = data.comparable_kpis(db)
if not choices:
    states.not_loaded("No DfE published statistics are loaded in this database yet.",
                      "Benchmarks compare the area with England, its region and its statistical neighbours on DfE's "
                      "published figures (the *Education, health and care plans* release and the statistical "
                      "neighbours list).", states.bundled(db, "A newer download loads with `python -m etl load`."))
    st.stop()

short = {k.id: k.short_name for k in [*cat.kpis, *cat.published_measures]}
note = url.choose_from_url("kpi", choices, choices[0], lambda i: short[i], "the KPI")
kpi_id = st.selectbox("KPI", choices, key="kpi", format_func=short.get, width=520)
url.write_to_url("kpi", kpi_id)
if note:
    st.info(note, icon=":material/link_off:")
kpi = cat.measure(kpi_id)  # a KPI, or a measure DfE publishes that the case records cannot compute
unit, d = kpi.unit, kpi.decimals
if kpi_id not in cat.ids:
    st.caption(f"{kpi.description} Basis: {kpi.statutory_basis} Source: {kpi.source}.")

comparison = data.kpi_comparison(db, kpi_id, area_code)
if comparison.problem:
    states.comparison_problem(comparison, warning=True)
    st.stop()
area, hist = comparison.area, comparison.history
years = sorted(hist.loc[hist["role"] == "area", "year"].unique(), reverse=True)
if not years:
    st.warning(f"DfE has published no figures for {area.name} on this KPI.", icon=":material/info:")
    st.stop()

st.caption(f"{area.name} ({area.area_code}, DfE {area.old_la_code}) · {area.region_name} · "
           f"{'Higher' if kpi.polarity == 'up' else 'Lower'} is better · DfE published statistics, calendar years")

year = st.selectbox("Year", years, key="bench_year", width=200)
table, why = data.benchmark_table(db, kpi_id, area_code, int(year), kpi.polarity)
if table is None:
    st.warning(why, icon=":material/info:")
    st.stop()

me = table[table["role"] == "area"].iloc[0]
eng = table[table["role"] == "england"].iloc[0]
pooled = table[table["role"] == "neighbours_pooled"].iloc[0]
with st.container(border=True):
    c = st.columns(4)
    c[0].markdown(html.cell(f"{area.name}, {year}", format_value(me["value"], unit, d),
                          f"{int(me['numerator']):,} of {int(me['denominator']):,}"
                          if pd.notna(me["numerator"]) and pd.notna(me["denominator"]) else None),
                  unsafe_allow_html=True)
    c[1].markdown(html.cell("England", format_value(eng["value"], unit, d), size="mid"), unsafe_allow_html=True)
    c[2].markdown(html.cell("Statistical neighbours (pooled)", format_value(pooled["value"], unit, d),
                          f"{int(pooled['n_areas'])} neighbours" if pd.notna(pooled["n_areas"]) else None,
                          size="mid"), unsafe_allow_html=True)
    rank = f"{int(me['rank'])} of {int(me['n_ranked'])}" if pd.notna(me["rank"]) else "–"
    c[3].markdown(html.cell("Rank among English local areas", rank, quartile_text(me["quartile"]), size="mid"),
                  unsafe_allow_html=True)

st.subheader(f"{year}: the area, England, region and neighbours", anchor=False)
st.plotly_chart(benchmark_bars(kpi, table), key="bars", config={"displaylogo": False},
                alt=f"Bar chart of {kpi.short_name} in {year} for {area.name}, England, the region and each "
                    "statistical neighbour, best first.")
shown = table.assign(
    quartile=[quartile_text(q) for q in table["quartile"]],
    value=[format_value(v, unit, d) for v in table["value"]],
)[["area_name", "area_code", "value", "numerator", "denominator", "rank", "quartile", "note"]]
shown.columns = ["Area", "Code", "Value", "Numerator", "Denominator", "Rank", "Quartile", "Note"]
st.dataframe(shown, hide_index=True, width="stretch", placeholder="–", column_config={
    "Numerator": st.column_config.NumberColumn(format="%d"), "Denominator": st.column_config.NumberColumn(format="%d"),
    "Rank": st.column_config.NumberColumn(format="%d")})
st.download_button(f"Download the {year} benchmark table (CSV)", table_csv(benchmark_export(shown, kpi, int(year))),
                   file_name=f"{kpi_id}_benchmark_{year}.csv", mime="text/csv", icon=":material/download:",
                   key="bench_download", on_click=audit.download,
                   args=("benchmarks", f"{kpi_id}_benchmark_{year}.csv", len(shown)))
st.caption("Rank is among all English local areas with a published value (1 = best; ties share the best rank). "
           "Quartile 1 is the best quarter. Neighbours pooled = their numerators summed over their denominators.")

st.subheader("Over the years", anchor=False, divider="gray")
st.markdown(f"**{area.name}'s rank among English local areas**")
st.plotly_chart(rank_figure(hist, area), key="rank", config={"displaylogo": False},
                alt=f"Line chart of {area.name}'s rank among English local areas by year.")
local = local_calendar_years(ctx.series[ctx.series["kpi_id"] == kpi_id]) if kpi.is_rate else None
local = local if local is not None else local_calendar_years(ctx.series.iloc[0:0])
st.plotly_chart(comparison_figure(kpi, area, hist, local, kpi.plan.target.value if kpi.plan else None),
                key="history", config={"displaylogo": False},
                alt=f"Line chart of {kpi.short_name} by year for {area.name}, England, region and neighbours.")
if comparison.target is not None:
    st.markdown(comparison.target.sentence(kpi))
wide = comparison_wide(hist, local, area)
widgets.comparison_table(wide)

st.subheader("Reconciliation with DfE", anchor=False, divider="gray")
st.markdown(f"{area.name}'s own calendar-year figures, computed from its case records, beside what DfE published "
            f"for it. Flagged: a rate more than {RATE_TOLERANCE_PP:g} percentage point apart, or a count more than "
            f"{COUNT_TOLERANCE:.0%} apart — the check to make before and after the statutory return.")
recon, why = data.reconciliation(db, area_code) if session.sees_exact_figures() else (None, None)
if not session.sees_exact_figures():
    st.info("The reconciliation compares exact counts from the case records, so it is shown to analysts only.",
            icon=":material/lock:")
elif recon is None:
    st.info(f"No reconciliation: {why}.", icon=":material/info:")
elif recon.empty:
    st.info("No complete calendar year of case records overlaps DfE's published years.", icon=":material/info:")
else:
    only = st.toggle("Only flagged differences", key="recon_flagged")
    r = reconciliation_table(recon, short, only)
    st.dataframe(reconciliation_shown(r, {short.get(k, k): cat.measure(k) for k in recon["kpi_id"].unique()}),
                 hide_index=True, width="stretch", column_config={
                     "Year": st.column_config.NumberColumn(format="%d"),
                     **{c: st.column_config.TextColumn(alignment="right") for c in FIGURES},
                     "Note": st.column_config.TextColumn(width="large", help="Written out in full below")})
    notes = notes_in_full(r)
    if notes:
        st.markdown("**Notes**\n\n" + "\n".join(f"- {n}" for n in notes))
    n_flagged = int(recon["flagged"].sum())
    st.caption(f"{len(recon)} comparisons, {n_flagged} flagged. Rates are compared with DfE's published (rounded) "
               "figure; counts with DfE's published counts.")
    st.download_button("Download the reconciliation (CSV)", r.to_csv(index=False).encode("utf-8"),
                       file_name="reconciliation.csv", mime="text/csv", icon=":material/download:",
                       key="recon_download", on_click=audit.download, args=("benchmarks", "reconciliation.csv",
                                                                                len(r)))
