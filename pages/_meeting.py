"""The Overview's parts for a review meeting: the "Since the last meeting" block (with its choice of the last
meeting's month, bound to ``?since=``), the status tiles' filter (``?status=``), the exceptions-first order, and
each KPI's status at the last meeting. The rules are in kpi/views/meeting.py and kpi/views/changes.py; the data
comes through pages/_data.py.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kpi.engine.trajectory import month_index, period_of
from kpi.views.board import SORT_KEYS, sort_board
from kpi.views.charts import format_period, status_text
from kpi.views.meeting import (
    EXCEPTIONS,
    EXCEPTIONS_LABEL,
    NOT_IN_PLAN,
    changes_table,
    exceptions_first,
    since_summary,
    with_tile,
)
from pages import _data as data
from pages import _session as session
from pages import _url as url
from pages._html import esc

ORDERS = {EXCEPTIONS: EXCEPTIONS_LABEL, **SORT_KEYS}  # the Overview's orders, the meeting's first
_SINCE_PERIOD_KEY = "_since_for_period"  # the month the last meeting's choice was made for


def order_board(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    """The board in the chosen order (exceptions first, or one of kpi.views.board's)."""
    cat = session.context().catalogue
    return exceptions_first(rows, cat) if key == EXCEPTIONS else sort_board(rows, cat, key)


def _choose_since(period: str, earlier: list[str]) -> str:
    """The last meeting's month: from the link, else the month before ``period`` (again whenever the month shown
    changes), else the latest earlier month with data."""
    if st.session_state.get(_SINCE_PERIOD_KEY) not in (None, period):
        st.session_state.pop("since", None)  # a new month shown: its previous month is the default again
    st.session_state[_SINCE_PERIOD_KEY] = period
    previous = period_of(month_index(period) - 1)
    note = url.choose_from_url("since", earlier, previous if previous in earlier else earlier[0], format_period,
                               "the last meeting's month")
    since = st.selectbox("Last meeting", earlier, key="since", format_func=format_period, width=220,
                         help="The month presented at the last meeting: its status and figures as they stood at "
                              "the end of that month (only the extracts dated by then), set against today's.")
    url.write_to_url("since", since)
    if note:
        st.info(note, icon=":material/link_off:")
    return since


def since_last_meeting_block() -> tuple[str | None, pd.DataFrame | None]:
    """The short "Since the last meeting" block at the top of the Overview: status moves, revised figures, new
    signals, actions due or overdue; the KPI-by-KPI table in an expander. Returns (the last meeting's month, the
    changes frame), or (None, None) when the month shown is the first with data."""
    ctx = session.context()
    earlier = [p for p in data.periods_with_data(ctx.series) if p < ctx.period]
    if not earlier:
        return None, None
    with st.container(border=True, key="since_last_meeting"):
        head = st.columns([1, 3.2], vertical_alignment="top")
        with head[0]:
            st.subheader("Since the last meeting", anchor=False)
            since = _choose_since(ctx.period, earlier)
        changed = data.since_last_meeting(ctx.series, ctx.area, session.current_role(), ctx.period, since)
        if data.swapped_during_run(data.db_path()):  # a load landed between the two reads: never mix them
            st.rerun()
        head[1].markdown("\n".join(f"- {esc(line)}" for line in since_summary(changed)))
        with st.expander(f"What changed since {format_period(since)}, KPI by KPI"):
            st.dataframe(changes_table(changed, ctx.catalogue), hide_index=True, width="stretch",
                         column_config={"KPI": st.column_config.TextColumn("KPI", pinned=True)})
            st.caption(f"Status then: {format_period(since)} as it stood at the end of that month (only the extracts "
                       f"dated by then); status now: {format_period(ctx.period)} on today's data. A figure is "
                       "revised when the same month now reads differently at the KPI's decimals. Actions: open "
                       "actions due by today.")
    return since, changed


def tile_filter(tiles: list[str], counts: dict[str, int]) -> str | None:
    """The status tiles' filter: show only the cards of one status (``?status=``); None shows every card."""
    def label(code: str | None) -> str:
        return "every status" if code is None else f"{status_text(None if code == NOT_IN_PLAN else code)} " \
                                                    f"({counts[code]})"

    note = url.choose_from_url("status", tiles, None, label, "the status")
    chosen = st.pills("Show only", tiles, format_func=label, key="status", selection_mode="single",
                      help="Click a status to see only its KPIs; click it again to see every KPI.")
    if chosen:
        url.write_to_url("status", chosen)
    else:
        url.forget_url("status")
    if note:
        st.info(note, icon=":material/link_off:")
    return chosen


def filtered(rows: pd.DataFrame, code: str | None) -> pd.DataFrame:
    """The board rows the tile filter leaves."""
    return with_tile(rows, code)
