"""SQL console (analysts only): one read-only SELECT at a time on the dashboard's database, in the sandbox
of kpi/access/sql_sandbox.py (no files, no network, settings locked, a row limit and a time limit).
Every query is audited."""

from __future__ import annotations

import streamlit as st

from kpi.access import sql_sandbox
from kpi.views.charts import table_csv
from pages import _audit as audit
from pages import _auth as auth
from pages import _data as data
from pages import _style as style

PAGE = "sql_console"
RESULT_KEY = "_sql_result"

user = auth.require(PAGE)

style.page_title("SQL console")
st.header("SQL console", anchor=False)
st.markdown(
    f"Query the dashboard's database directly: **one read-only `SELECT` at a time** (`WITH … SELECT`, `FROM …`, "
    f"`DESCRIBE`, `SHOW` and `SUMMARIZE` too). Files, URLs, extensions, settings and writes are refused. Results "
    f"stop at {sql_sandbox.DEFAULT_ROW_LIMIT:,} rows and a query at {sql_sandbox.DEFAULT_TIME_LIMIT_S:g} seconds. "
    "People appear only as pseudonymous keys. Every query is recorded in the audit log.")

with st.expander("Tables and columns", icon=":material/table:"):
    try:
        st.dataframe(data.sql_tables(), hide_index=True, width="stretch")
    except sql_sandbox.SqlRefused as exc:
        st.warning(f"The table list is not available: {exc}")

with st.form("sql_form", border=False):
    sql = st.text_area("Query", key="sql_text", height=180,
                       placeholder="SELECT request_outcome, count(*) AS requests FROM request GROUP BY 1 ORDER BY 1")
    submitted = st.form_submit_button("Run query", icon=":material/play_arrow:", type="primary")

if submitted:
    audit.record("sql_query", page=PAGE, detail={"sql": sql}, outcome="started")  # before: kept if the run is lost
    try:
        result = data.run_sql(sql)
    except sql_sandbox.SqlRefused as exc:
        st.session_state[RESULT_KEY] = str(exc)
        audit.record("sql_query", page=PAGE, detail={"sql": sql}, outcome=f"refused: {exc}")
    else:
        st.session_state[RESULT_KEY] = result
        audit.record("sql_query", page=PAGE, detail={"sql": sql, "rows": len(result.frame),
                                                  "truncated": result.truncated}, outcome="ok")

shown = st.session_state.get(RESULT_KEY)
if isinstance(shown, str):
    st.error(f"Not run: {shown}", icon=":material/block:")
elif shown is not None:
    rows = len(shown.frame)
    st.caption(f"{rows:,} row{'s' if rows != 1 else ''} · {shown.seconds:.2f} s")
    if shown.notice:
        st.warning(shown.notice, icon=":material/content_cut:")
    st.dataframe(shown.frame, hide_index=True, width="stretch", height=min(420, 38 + 35 * max(rows, 1)))
    st.download_button("Download the result (CSV)", table_csv(shown.frame), file_name="query_result.csv",
                       mime="text/csv", icon=":material/download:", key="sql_download", on_click=audit.download,
                       args=(PAGE, "query_result.csv", rows))
    st.caption("Exact figures, for analysts: apply small-number suppression before sharing anything beyond the "
               "analyst role.")
