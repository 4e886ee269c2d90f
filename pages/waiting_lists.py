"""Waiting lists: per service, the local month-end waits over time and NHS England's published series beside them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi.engine.compute_waits import longest_waits, waiting_at
from kpi.engine.nhs_waits import NHS_SERVICE, PROVIDER_CAVEAT, nhs_summary, nhs_waits, organisations
from kpi.views.charts import format_number, format_period, format_value, status_text, trajectory_figure
from kpi.views.waits_view import (
    SERVICE_LABELS,
    comparison,
    kpi_ids,
    local_bands_alt,
    local_bands_figure,
    local_bands_title,
    nhs_bands_figure,
    nhs_bands_title,
    suppressed_in,
)
from kpi.views.waits_view import service_table as local_table
from pages import _data as data
from pages import _html as html
from pages import _session as session
from pages import _states as states
from pages import _style as style
from pages import _url as url

ctx = session.context()
cat, period = ctx.catalogue, ctx.period
db = data.db_path()

style.page_title(f"Waiting lists: {format_period(period)}")
st.header(f"Waiting lists: {format_period(period)}", anchor=False)
st.markdown("Children and young people waiting for community health services, from the local referral extract: "
            "a wait runs from referral to the first contact or removal from the list. Figures are at the end of "
            "the month; 18 weeks is the benchmark NHS England and DfE use (no statutory limit applies).")

services = list(SERVICE_LABELS)
note = url.choose_from_url("service", services, "SALT", SERVICE_LABELS.get, "the service")
service = st.selectbox("Service", services, key="service", format_func=SERVICE_LABELS.get, width=520)
url.write_to_url("service", service)
if note:
    st.info(note, icon=":material/link_off:")
label = SERVICE_LABELS[service]
table = local_table(ctx.series, service, cat)
ids = kpi_ids(service, cat)

if table.empty or table["waiting"].isna().all():
    states.not_loaded("No local referral extract is loaded, so there are no local waits to show.",
                      "The local waits come from the services' referral-level extract.",
                      f"Load one with `python -m etl load referrals.csv --db {db}` (see the README).")
else:
    now = table[table["period"] == period]
    row = now.iloc[0] if len(now) else None
    over18 = ctx.series[(ctx.series["kpi_id"] == ids["over18"]) & (ctx.series["period"] == period)]
    status = over18["status"].iloc[0] if len(over18) else None

    hidden = suppressed_in(ctx.series, service, period, cat)  # small numbers, for roles without exact figures

    def _num(key: str):
        return None if row is None or pd.isna(row[key]) else row[key]

    def _count(key: str, kpi: str) -> str:
        return "c" if hidden[kpi] and _num(key) is None else format_number(_num(key))

    with st.container(border=True, key="waits_now"):
        c = st.columns([1.2, 1.5, 1.3, 1.2, 1.5])
        c[0].markdown(html.cell("Waiting at month end", _count("waiting", "size"), label), unsafe_allow_html=True)
        c[1].markdown(html.cell("Waiting over 18 weeks",
                              format_value(_num("pct_over_18wk"), "percent", 1, suppressed=hidden["over18"]),
                              f"{_count('over_18wk', 'over18')} of {_count('waiting', 'size')}"),
                      unsafe_allow_html=True)
        if isinstance(status, str):
            c[1].markdown(html.status_badge(status, status_text(status)), unsafe_allow_html=True)
        c[2].markdown(html.cell("Median wait so far",
                              format_value(_num("median_weeks"), "weeks", 1, suppressed=hidden["median"]),
                              "of those waiting"), unsafe_allow_html=True)
        c[3].markdown(html.cell("Waiting over 52 weeks", _count("over_52wk", "over52"), "children"),
                      unsafe_allow_html=True)
        c[4].markdown(html.cell("Seen within 18 weeks",
                              format_value(_num("pct_seen_within_18wk"), "percent", 1, suppressed=hidden["seen"]),
                              f"of {_count('first_contacts', 'seen')} first contacts in the month"),
                      unsafe_allow_html=True)

    st.markdown(f"**{local_bands_title(label)}**")
    st.plotly_chart(local_bands_figure(table), key="local_bands", config={"displaylogo": False},
                    alt=local_bands_alt(table, label))
    kpi = cat.get(ids["over18"]) if ids["over18"] else None  # None: the definitions hold no such KPI
    if kpi is not None:
        rows = ctx.series[ctx.series["kpi_id"] == kpi.id]
        st.markdown(f"**{kpi.name}**")
        st.plotly_chart(trajectory_figure(rows, kpi, cat.plan_window, period, show_rolling=False),
                        key="over18_trajectory", config={"displaylogo": False},
                        alt=f"Line chart of the percentage of children waiting over 18 weeks for {label} by month"
                        + (" against the plan trajectory." if kpi.plan else "."))
    st.caption("The shaded band is the APP monitoring window. Marker shape shows status: ● on track, ◆ within "
               "tolerance, ✖ off track. More KPIs for this service are on the Overview and KPI trajectory pages.")

    if not session.sees_exact_figures():
        st.caption("The breakdown by age and the longest individual waits are shown to analysts only: they hold "
                   "small numbers of children.")
    else:
        ages, longest = st.columns([1.25, 1], gap="medium")
        with ages:
            st.subheader("By age at referral", anchor=False)
            by_age = data.db_call(waiting_at, service, period, ctx.area)
            st.dataframe(by_age.rename(columns={"age_group": "Age group", "waiting": "Waiting",
                                                "median_weeks": "Median weeks", "pct_over_18wk": "% over 18 weeks",
                                                "over_52wk": "Over 52 weeks"}),
                         hide_index=True, width="stretch", column_config={
                             "Median weeks": st.column_config.NumberColumn(format="%.1f"),
                             "% over 18 weeks": st.column_config.NumberColumn(format="%.1f")})
        with longest:
            st.subheader("Longest waits", anchor=False)
            st.dataframe(data.db_call(longest_waits, service, period, 10, ctx.area).rename(columns={
                "weeks_waiting": "Weeks waiting", "referred": "Referred (month)", "age_group": "Age group",
                "locality": "Locality"}), hide_index=True, width="stretch",
                column_config={"Weeks waiting": st.column_config.NumberColumn(format="%.1f")})
            st.caption("The ten children who have waited longest at the month end. No name or identifier is "
                       "shown.")

st.subheader("Beside NHS England's published waiting lists", anchor=False)
st.warning(PROVIDER_CAVEAT, icon=":material/info:")
orgs = data.db_call(organisations)
nhs_key = NHS_SERVICE[service]
if orgs.empty:
    states.not_loaded("No NHS England Community Health Services workbooks are loaded.",
                      "They set the area's waits beside its NHS providers' published ones.",
                      states.bundled(db, f"A newer download loads with `python -m etl load PATH/nhs_chs/ --db {db}`."))
elif nhs_key is None:
    st.info(f"NHS England's Community Health Services collection has no line for {label[0].lower() + label[1:]}.",
            icon=":material/info:")
else:
    codes = list(orgs["org_code"])
    names = dict(zip(orgs["org_code"], orgs["org_name"], strict=True))
    default = "RYV" if "RYV" in codes else codes[0]
    org_note = url.choose_from_url("org", codes, default, lambda c: names.get(c, c), "the organisation")
    org = st.selectbox("NHS organisation (England, region, ICB or provider)", codes, key="org", width=520,
                       format_func=lambda c: f"{names[c]} ({c})")
    url.write_to_url("org", org)
    if org_note:
        st.info(org_note, icon=":material/link_off:")
    bands = data.db_call(nhs_waits, org, nhs_key)
    summary = data.db_call(nhs_summary, org, service)
    if bands.empty or bands["value"].isna().all():
        st.info(f"{names[org]} submitted no figures for this service in the months loaded.", icon=":material/info:")
    else:
        service_name = bands["service"].iloc[0]
        st.markdown(f"**{nhs_bands_title(names[org], service_name)}**")
        st.plotly_chart(nhs_bands_figure(bands), key="nhs_bands",
                        config={"displaylogo": False},
                        alt=f"Stacked bars of the NHS England weeks-waiting bands for {names[org]}, {service_name}, "
                            "by data month.")
        compared = comparison(table, summary)
        st.dataframe(compared, hide_index=True, width="stretch", placeholder="–", column_config={
            c: st.column_config.NumberColumn(format="%.1f" if "%" in c else "localized")
            for c in compared.columns if c.startswith(("Local:", "NHS:"))})
        st.caption("NHS months are the data months (read from the workbook titles, not the publication month). "
                   "Blank: not submitted or suppressed. 'NHS bands add up' says whether the published weeks-waiting "
                   "bands sum to the published total; NHS England warns they may not.")
