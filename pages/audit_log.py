"""Audit log (analysts only): sign-ins, page views with their parameters, downloads and SQL queries."""

from __future__ import annotations

import streamlit as st

from kpi.views.charts import table_csv
from pages import _audit as audit
from pages import _auth as auth
from pages import _data as data
from pages import _style as style

PAGE = "audit_log"
LABELS = {"all": "All events", "sign_in": "Sign-ins", "access_denied": "Refused access",
          "page_view": "Page views", "download": "Downloads", "sql_query": "SQL queries"}

auth.require(PAGE)
path = data.audit_path()

style.page_title("Audit log")
st.header("Audit log", anchor=False)
st.markdown(f"Who did what, and when (UTC), most recent first. Kept in `{path}`, beside the database.")
event = st.segmented_control("Show", list(LABELS), format_func=LABELS.get, default="all", key="audit_event",
                             required=True)
log = data.audit_events(1000, None if event == "all" else event)
if log.empty:
    st.info("No events recorded yet.", icon=":material/history:")
else:
    st.dataframe(log, hide_index=True, width="stretch", height=min(520, 38 + 35 * len(log)), column_config={
        "occurred_at": st.column_config.DatetimeColumn("When (UTC)", format="YYYY-MM-DD HH:mm:ss"),
        "who": "Who", "role": "Role", "event": "Event", "outcome": "Outcome",
        "page": st.column_config.TextColumn("Page", width="medium"),  # "kpi_trajectory" in full
        "detail": st.column_config.TextColumn("Detail (parameters, file, SQL)", width="large"),
        "session_id": "Session"})
    st.caption(f"The latest {len(log):,} events." if len(log) == 1000 else f"{len(log):,} events.")
    st.download_button("Download the audit log (CSV)", table_csv(log), file_name="audit_log.csv", mime="text/csv",
                       icon=":material/download:", key="audit_download", on_click=audit.download,
                       args=(PAGE, "audit_log.csv", len(log)))
