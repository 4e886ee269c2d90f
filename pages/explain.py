"""Explain this number: for a KPI and a month (``?kpi=…&period=…``), its definition, the SQL that produced it,
the counts behind it, the loads its records came from and, for analysts, the pseudonymous records counted."""

from __future__ import annotations

import streamlit as st

from kpi.engine import explain as xp
from kpi.engine.compute import events_sql
from kpi.engine.explore import family
from kpi.views.charts import format_basis, format_period, format_value, polarity_text, table_csv
from kpi.views.explore_view import excel_bytes
from pages import _audit as audit
from pages import _auth as auth
from pages import _data as data
from pages import _html as html
from pages import _session as session
from pages import _style as style
from pages import _url as url

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

auth.require("explain")  # analysts only (access.yaml): pseudonymous records
ctx = session.context()
cat, period = ctx.catalogue, ctx.period
short = {k.id: k.short_name for k in cat.kpis}

note = url.choose_from_url("kpi", cat.event_ids, cat.event_ids[0], short.get, "the KPI")
kpi_id = st.selectbox("KPI", cat.event_ids, key="kpi", format_func=short.get, width=520)
url.write_to_url("kpi", kpi_id)
if note:
    st.info(note, icon=":material/link_off:")

kpi = cat.get(kpi_id)
rows = ctx.series[(ctx.series["kpi_id"] == kpi_id) & (ctx.series["period"] == period)]
now = rows.iloc[0] if len(rows) else None
fam = family(kpi)

style.page_title(f"Explain this number: {kpi.short_name}, {format_period(period)}")
st.header(f"Explain this number: {kpi.short_name}, {format_period(period)}", anchor=False)
st.caption("The month is the reporting month in the sidebar.")
with st.container(border=True):
    c = st.columns([1.3, 1, 1, 2])
    value = format_value(now["value"] if now is not None else None, kpi.unit, kpi.decimals)
    c[0].markdown(html.cell(format_period(period), value,
                          format_basis(now["numerator"], now["denominator"], kpi.unit, now["median"])
                          if now is not None else "no data"), unsafe_allow_html=True)
    if fam == "count":
        c[1].markdown(html.cell("Count", format_value(now["numerator"] if now is not None else None, "count", 0),
                              "records counted at month end", size="mid"), unsafe_allow_html=True)
    else:
        num_label, den_label = ("Total weeks", "Plans issued") if fam == "mean" else ("Numerator", "Denominator")
        c[1].markdown(html.cell(num_label, format_value(now["numerator"], "count", 1 if fam == "mean" else 0),
                              "met the time limit" if fam == "rate" else "request to plan, summed",
                              size="mid"), unsafe_allow_html=True)
        c[2].markdown(html.cell(den_label, format_value(now["denominator"], "count", 0), "events in the month",
                              size="mid"), unsafe_allow_html=True)
    c[3].markdown(html.cell("Direction", polarity_text(kpi.polarity),
                          "Rate = numerator ÷ denominator × 100" if fam == "rate" else
                          "Mean = total weeks ÷ plans issued" if fam == "mean" else
                          "Records open at the end of the month", size="mid"), unsafe_allow_html=True)
    if fam != "count" and now is not None and not now["denominator"]:
        st.caption("No events in the month: there is no value (never 0%).")

st.subheader("Definition", anchor=False)
st.markdown(kpi.description)
st.markdown(f"- **Statutory basis:** {kpi.statutory_basis}\n- **Source:** {kpi.source}\n"
            f"- **Owner:** {kpi.owner}\n- **KPI id:** `{kpi.id}`")
with st.expander("The definition from kpi_definitions.yaml, every field as the engine reads it"):
    st.code(xp.definition_yaml(kpi), language="yaml")

st.subheader("The SQL that produced it", anchor=False)
st.caption("The monthly series on this database (kpi.engine.compute.method_sql); the month's row is the number above.")
sql = data.db_call(xp.series_sql, cat, kpi, ctx.area)
st.code(sql or "-- the database holds no dated records", language="sql", wrap_lines=True)
with st.expander("The per-event rows beneath it (kpi.engine.compute.events_sql)"):
    st.code(events_sql(kpi).strip(), language="sql", wrap_lines=True)

st.subheader("Where the records came from", anchor=False)
loads = data.db_call(xp.loads, kpi, period, ctx.area)
if loads.empty:
    st.markdown("No records are counted in this month.")
else:
    st.caption("The loads that last wrote the records counted this month (from the load log): file, SHA-256 of "
               "its contents, and when it was loaded.")
    st.dataframe(loads, hide_index=True, width="stretch", key="loads")

st.subheader("The records behind it", anchor=False)
st.caption("Analysts only. Pseudonymous: a person appears as a keyed hash of the case-system id; no name, UPN, "
           "birth date or postcode is held.")
records = xp.records_table(data.db_call(xp.records, kpi, period, ctx.area), kpi)
n = f"{len(records)} record{'' if len(records) == 1 else 's'}"
if fam == "rate":
    met = int((records["Met"] == "Yes").sum())
    st.markdown(f"**{n} in the denominator, {met} of them met the time limit (the numerator)"
                f" and {len(records) - met} did not.**")
elif fam == "mean":
    st.markdown(f"**{len(records)} plan{'' if len(records) == 1 else 's'} issued in the month**, with the weeks "
                "from request to plan of each.")
else:
    st.markdown(f"**{n} counted at the end of {format_period(period)}**; “Until” is blank "
                "while still open.")
if len(records):
    st.dataframe(records, hide_index=True, width="stretch", placeholder="–", key="records")
    name = f"{kpi.id}_{period}_records"
    dl = st.columns([1, 1, 3])
    dl[0].download_button("Records (CSV)", table_csv(records), file_name=f"{name}.csv", mime="text/csv",
                          icon=":material/download:", key="records_csv", on_click=audit.download,
                          args=("explain", f"{name}.csv", len(records)))
    dl[1].download_button("Records (Excel)", excel_bytes(records, "Records"), file_name=f"{name}.xlsx", mime=XLSX,
                          icon=":material/download:", key="records_xlsx", on_click=audit.download,
                          args=("explain", f"{name}.xlsx", len(records)))
st.page_link("pages/explore.py", label=f"Break {kpi.short_name} down in Explore", icon=":material/bar_chart:",
             query_params={"kpi": kpi_id, "start": period, "end": period})
