"""Explore (analysts): one KPI broken down by a characteristic of the child or the case, for a month or a run of
months, filtered, optionally beside another period. A bar chart and a table, each downloadable as CSV and Excel
exactly as shown. Every choice lives in the URL, so a link reopens the same view."""

from __future__ import annotations

import streamlit as st

from kpi.engine import explore as ex
from kpi.engine import explore_waits as exw
from kpi.views.charts import format_basis, format_change, format_period, format_value, table_csv
from kpi.views.explore_view import (
    breakdown_figure,
    breakdown_table,
    chart_frame,
    excel_bytes,
    span_label,
    table_formats,
    table_height,
)
from pages import _audit as audit
from pages import _auth as auth
from pages import _data as data
from pages import _html as html
from pages import _session as session
from pages import _style as style
from pages import _url as url

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

auth.require("explore")  # analysts only (access.yaml): exact figures
ctx = session.context()
cat = ctx.catalogue
short = {k.id: k.short_name for k in cat.kpis}
months = data.periods_with_data(ctx.series)  # newest first

style.page_title("Explore")
st.header("Explore", anchor=False)
st.caption("For analysts: exact figures from the pseudonymised case records and referral extracts, broken down and "
           "filtered. Every total equals the headline figure for the same months.")

# The KPI decides the rows and so the characteristics: SEN2 events (kpi.engine.explore) or referrals
# (kpi.engine.explore_waits).
explorable = [k.id for k in cat.kpis if k.id in cat.event_ids or exw.is_wait_kpi(k)]  # not the local extracts yet
notes = [url.choose_from_url("kpi", explorable, explorable[0], short.get, "the KPI")]
engine = exw if exw.is_wait_kpi(cat.get(st.session_state["kpi"])) else ex
dims = data.db_call(engine.available_dimensions, ctx.area)
labels = {d.id: d.label for d in dims}
if not labels:
    st.warning("The loaded records hold no characteristic to break this KPI down by.", icon=":material/database:")
    st.stop()
notes += [url.choose_from_url("start", months, ctx.period, format_period, "the first month"),
          url.choose_from_url("end", months, ctx.period, format_period, "the last month"),
          url.choose_from_url("by", list(labels), next(iter(labels)), labels.get, "the breakdown"),
          url.choose_from_url("compare", ["no", "yes"], "no", str, "comparison")]
row = st.columns([2.4, 1.1, 1.1, 1.8], vertical_alignment="bottom")
kpi_id = row[0].selectbox("KPI", explorable, key="kpi", format_func=short.get, persist_state="session")
start = row[1].selectbox("From", months, key="start", format_func=format_period, persist_state="session")
end = row[2].selectbox("To", months, key="end", format_func=format_period, persist_state="session")
by = row[3].selectbox("Break down by", list(labels), key="by", format_func=labels.get, persist_state="session")
for key, value in (("kpi", kpi_id), ("start", start), ("end", end), ("by", by)):
    url.write_to_url(key, value)
if start > end:
    notes.append(f"“From” ({format_period(start)}) is after “To” ({format_period(end)}): showing the months between.")
    start, end = end, start
span = ex.Span(start, end)

row = st.columns([1.6, 1.1, 1.1, 1.8], vertical_alignment="bottom")
compare_on = row[0].radio("Compare with another period", ["no", "yes"], key="compare", horizontal=True,
                          format_func={"no": "No", "yes": "Yes"}.get, persist_state="session") == "yes"
url.write_to_url("compare", "yes" if compare_on else "no")
compare = None
if compare_on:
    default = ex.default_comparison(span, months)
    notes += [url.choose_from_url("cmp_start", months, default.start, format_period, "the comparison's first month"),
              url.choose_from_url("cmp_end", months, default.end, format_period, "the comparison's last month")]
    c_start = row[1].selectbox("Compare from", months, key="cmp_start", format_func=format_period,
                               persist_state="session")
    c_end = row[2].selectbox("Compare to", months, key="cmp_end", format_func=format_period, persist_state="session")
    url.write_to_url("cmp_start", c_start)
    url.write_to_url("cmp_end", c_end)
    compare = ex.Span(min(c_start, c_end), max(c_start, c_end))
    if compare == span:
        notes.append("The comparison is the same period as the one shown: choose different months to compare.")
        compare = None
else:
    url.forget_url("cmp_start")
    url.forget_url("cmp_end")

filters: dict[str, tuple[str, ...]] = {}
with st.expander("Filters", expanded=any(st.query_params.get_all(f"f_{d}") for d in labels)):
    cols = st.columns(3)
    for i, (dim_id, label) in enumerate(labels.items()):
        options = data.db_call(engine.dimension_values, dim_id, ctx.area)
        dropped = url.choose_many_from_url(f"f_{dim_id}", options)
        if dropped:
            shown = ", ".join(html.md(v) for v in dropped[:5])
            shown += f" and {len(dropped) - 5} more" if len(dropped) > 5 else ""
            notes.append(f"The link filters {label.lower()} by {shown}, which the data do not hold.")
        chosen = cols[i % 3].multiselect(label, options, key=f"f_{dim_id}", placeholder="All", persist_state="session")
        url.write_many_to_url(f"f_{dim_id}", chosen)
        if chosen:
            filters[dim_id] = tuple(chosen)
for note in filter(None, notes):
    st.info(note, icon=":material/info:")

kpi = cat.get(kpi_id)
df = data.db_call(engine.breakdown, kpi, by, span, compare, filters, ctx.area)
table = breakdown_table(df, kpi, by, span, compare)
bars = chart_frame(df, kpi, by, span, compare)
t = df.iloc[-1]

st.subheader(f"{kpi.short_name} by {labels[by].lower()}, {span_label(span)}", anchor=False)
where = "; ".join(f"{labels[d]}: {', '.join(v)}" for d, v in filters.items())
summary = (f"**Total {span_label(span)}: {format_value(t['value'], kpi.unit, kpi.decimals)}** "
           f"({format_basis(t['numerator'], t['denominator'], kpi.unit, t['median'])})")
if compare is not None:
    summary += (f" · {span_label(compare)}: {format_value(t['value_b'], kpi.unit, kpi.decimals)} "
                f"({format_basis(t['numerator_b'], t['denominator_b'], kpi.unit, t['median_b'])}) · "
                f"change {format_change(t['change'], kpi.unit, kpi.decimals, kpi.polarity)}")
st.markdown(summary)
if where:
    st.caption(f"Filtered to {where}.")

name = f"{kpi.id}_by_{by}_{span.start}_{span.end}" + (f"_vs_{compare.start}_{compare.end}" if compare else "")
st.plotly_chart(breakdown_figure(bars, kpi, by), key="explore_chart",
                config={"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]})
dl = st.columns([1, 1, 3])
dl[0].download_button("Chart data (CSV)", table_csv(bars), file_name=f"{name}_chart.csv", mime="text/csv",
                      icon=":material/download:", key="chart_csv", on_click=audit.download,
                      args=("explore", f"{name}_chart.csv", len(bars)))
dl[1].download_button("Chart data (Excel)", excel_bytes(bars, "Chart data"), file_name=f"{name}_chart.xlsx",
                      mime=XLSX, icon=":material/download:", key="chart_xlsx", on_click=audit.download,
                      args=("explore", f"{name}_chart.xlsx", len(bars)))

st.dataframe(table, hide_index=True, width="stretch", placeholder="–", key="explore_table",
             height=table_height(table), column_config={
                 c: st.column_config.NumberColumn(c, format=f) for c, f in table_formats(table, kpi).items()})
dl = st.columns([1, 1, 3])
dl[0].download_button("Table (CSV)", table_csv(table), file_name=f"{name}.csv", mime="text/csv",
                      icon=":material/download:", key="table_csv", on_click=audit.download,
                      args=("explore", f"{name}.csv", len(table)))
dl[1].download_button("Table (Excel)", excel_bytes(table, "Breakdown"), file_name=f"{name}.xlsx", mime=XLSX,
                      icon=":material/download:", key="table_xlsx", on_click=audit.download,
                      args=("explore", f"{name}.xlsx", len(table)))

notes = ["Each referral is grouped by its service, the child's age at referral and locality. Broken down by service, "
         "the KPI's measure is shown for every service; otherwise the breakdown is within the KPI's own service."
         if engine is exw else
         "Each event is grouped by the characteristics of the request behind it: age at the request, the child's "
         "sex, ethnicity group and postcode district, the request source, and the primary need and placement on "
         "the request's latest active-plan record.",
         "Missing or blank values are grouped as “Not recorded”, never dropped; a group with no events in a period "
         "has no value (–), never 0%."]
if kpi.is_snapshot:
    notes.append("This KPI is taken at month end: for a run of months it is the figure at the end of the last.")
st.caption(" ".join(notes))
if kpi_id in cat.event_ids:  # Explain reads SEN2 events; the waiting lists have their own page
    st.page_link("pages/explain.py", label=f"Explain this number: {short[kpi_id]}, {format_period(span.end)}",
                 icon=":material/manage_search:", query_params={"kpi": kpi_id, "period": span.end})
