"""Data quality: load history, quarantined rows with their reasons, freshness per source, revisions, warnings.

For analysts (and, without the quarantined rows or the revised records, leadership): how complete and current the
data behind every KPI is, and what to fix in the next extract. The tables come from ``kpi.engine.data_quality``; this
page only lays them out. Quarantined rows and revised records are shown to roles that see exact figures
(analysts) only; others see revisions counted by module.
"""

from __future__ import annotations

import streamlit as st

from etl.wording import counted
from kpi.engine.data_quality import quality_report, revision_counts
from kpi.views.charts import table_csv
from kpi.views.quality_view import (
    NOT_RECORDED,
    as_of,
    date_formats,
    freshness_shown,
    headline,
    history_shown,
    quarantine_shown,
    revisions_shown,
    warnings_shown,
)
from pages import _audit as audit
from pages import _data as data
from pages import _session as session
from pages import _style as style


def table(frame, gap: str = "", helps: dict[str, str] | None = None) -> None:
    """One of the page's tables, full width, its date columns kept sortable (datetimes) and written in the page's
    date style, a gap shown as ``gap``; ``helps``: a date column's tooltip."""
    helps = helps or {}
    st.dataframe(frame, hide_index=True, width="stretch", placeholder=gap, column_config={
        c: st.column_config.DatetimeColumn(format=f, help=helps.get(c)) for c, f in date_formats(frame).items()})


ctx = session.context()
analyst = session.sees_exact_figures()
path = data.db_path()
report = data.read(quality_report, area=ctx.area)  # not cached: freshness is judged against today

heading = f"Data quality: {ctx.area_name}" if len(ctx.areas) > 1 else "Data quality"
style.page_title(heading)
st.header(heading, anchor=False)
st.markdown(f"**{headline(report)}.** Identifier values (names, UPN, birth dates, postcodes) are never stored, "
            "so they are blank in the quarantine; people appear only as shortened pseudonyms.")

st.subheader("Freshness by source", anchor=False)
st.caption("Monthly extracts are due a month after the last load and overdue two weeks later; "
           "DfE's published statistics are yearly. Status is shown in words and a symbol.")
table(freshness_shown(report.freshness), helps={"Data as at": "The date the newest extract's figures stand at"})

history, quarantine, revisions, warnings, checks = st.tabs([
    f"Load history ({len(report.history):,})", f"Quarantined rows ({len(report.quarantine):,})",
    f"Revisions ({len(report.revisions):,})", f"Warnings ({len(report.warnings):,})",
    f"Record checks ({report.record_warnings:,})"])

with history:
    st.caption("One row per file (or workbook sheet) loaded, newest first. A file loaded again unchanged is "
               "skipped and not listed twice.")
    table(history_shown(report.history), gap=NOT_RECORDED,
          helps={"Data as at": "From the SEN2 header, the file name or the load day (Date from)"})

with quarantine:
    if not analyst:
        st.info(f"{counted(len(report.quarantine), 'quarantined value')}. The rows themselves are shown to "
                "analysts only.", icon=":material/lock:")
    elif report.quarantine.empty:
        st.success("No rows are quarantined: every row of every load passed validation.", icon=":material/check:")
    else:
        st.caption("Rows kept out of the KPIs, with the rule each broke. Row 1 is the first row below the header. "
                   "Fix them in the case system and load the next extract.")
        st.markdown("**By rule**")
        st.dataframe(report.quarantine_summary, hide_index=True, width="stretch")
        st.markdown("**Every quarantined value**")
        table(quarantine_shown(report.quarantine))
        st.download_button("Download quarantined rows (CSV)", table_csv(report.quarantine),
                           file_name="quarantine.csv", mime="text/csv", icon=":material/download:",
                           key="quarantine_download", on_click=audit.download,
                           args=("data_quality", "quarantine.csv", len(report.quarantine)))

with revisions:
    if report.revisions.empty:
        st.info("No record has been revised by a later extract yet.", icon=":material/history:")
    elif not analyst:  # each revised record's key, dates, outcome and age are record-level: analysts only
        rule = data.access_config().suppression
        st.caption("How many records later extracts changed, by module and the values changed. The records "
                   f"themselves are shown to analysts only; counts of {rule.min_count}–{rule.max_count} show as “c”.")
        st.dataframe(revision_counts(report.revisions, (rule.min_count, rule.max_count)), hide_index=True,
                     width="stretch")
    else:
        st.caption("Records a later extract changed: the values they had before, and the loads involved.")
        table(revisions_shown(report.revisions))

with warnings:
    if report.warnings.empty:
        st.info("No warnings.", icon=":material/info:")
    else:
        st.caption("Reported but not quarantined: columns a layout does not use, values under a blank heading.")
        table(warnings_shown(report.warnings))

with checks:
    st.caption("Records that loaded but that the KPIs read by a stated rule: a warning to fix in the "
               "case system, not a quarantine. Counts of records, never the records themselves.")
    st.dataframe(report.record_checks, hide_index=True, width="stretch")

st.caption(as_of(report.as_of) + (f", from `{path}`." if analyst else "."))
