"""Commentary and actions for one KPI and month, as the KPI trajectory page and the Overview cards show them: read by
everyone who may open the page, written (the narrative, a new action with owner and due date, an action marked
done) through forms by the roles that write notes (access.yaml ``write_notes``). The notes are read and written
through pages/_data.py (kpi/notes.py audits every write); a refused write shows the back end's one-line reason.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from kpi.views.charts import format_date, format_period
from pages import _data as data
from pages import _html as html
from pages import _session as session

FLASH_KEY = "_notes_flash"  # (panel key, message, written?) of the last write, for its panel to show
NARRATIVE, ACTION, OPEN, DONE = "narrative", "action", "open", "done"  # kpi/notes.py's kinds and statuses


def _writer() -> tuple[str, str] | None:
    """(who, role) of this session when its role writes notes, else None."""
    user = session.session_user()
    if user is None or not data.can_write_notes(user.role):
        return None
    return user.who, user.role


def _stamp(r) -> str:
    edited = f", edited by {r.author}" if r.author != r.created_by else ""
    return f"{r.created_by}, {format_date(pd.Timestamp(r.written_at).date())}{edited}"


def _action_line(r, today: date) -> str:
    due = r.due if isinstance(r.due, date) else None
    late = r.status == OPEN and due is not None and due < today
    mark = "☑" if r.status == DONE else "☐"
    state = "done" if r.status == DONE else ("overdue" if late else "open")
    return (f"{mark} {html.esc(r.text)} <span class=\"kpi-note\">({html.esc(r.owner)}, due "
            f"{format_date(due) if due else '–'}, {state}; {format_period(r.period)})</span>")


def _outcome(key: str, problem: str | None, done: str) -> None:
    """Keep what a write came to for its panel to show: the refusal's reason, or a confirmation."""
    st.session_state[FLASH_KEY] = (key, f"Not saved: {problem}." if problem else done, problem is None)


def _save_narrative(key: str, common: dict) -> None:
    text = st.session_state.get(f"{key}_narrative", "")
    _outcome(key, data.write_note(NARRATIVE, text=text, **common), "Commentary saved.")


def _add_action(key: str, common: dict) -> None:
    state = st.session_state
    _outcome(key, data.write_note(ACTION, text=state.get(f"{key}_action_text", ""),
                                  owner=state.get(f"{key}_action_owner", ""), due=state.get(f"{key}_action_due"),
                                  **common), "Action added.")


def _mark_done(key: str, who: str, role: str, page: str) -> None:
    note_id = st.session_state.get(f"{key}_done_id")
    problem = (data.set_action_status(note_id, DONE, author=who, role=role, page=page) if note_id
               else "no action chosen")
    _outcome(key, problem, "Action marked done.")


def _forms(kpi_id: str, period: str, area: str, page: str, key: str, narrative: str,
           open_actions: pd.DataFrame, writer: tuple[str, str]) -> None:
    """The three forms; each writes in its submit button's callback (before the page is drawn again, so the page
    shows the note at once, and a rerun of the page cannot lose the click)."""
    who, role = writer
    common = {"area": area, "kpi_id": kpi_id, "period": period, "author": who, "role": role, "page": page}
    with st.form(f"{key}_narrative_form", border=False):
        st.text_area(f"Commentary for {format_period(period)}", value=narrative, key=f"{key}_narrative",
                     max_chars=2000, help="Why the KPI is where it is. About the service, never a child: no names "
                     "or identifiers.")
        st.form_submit_button("Save commentary", icon=":material/save:", on_click=_save_narrative,
                              args=(key, common))
    with st.form(f"{key}_action_form", border=False):
        st.markdown('<p class="kpi-label">New action</p>', unsafe_allow_html=True)
        st.text_input("Action", key=f"{key}_action_text", max_chars=2000)
        cols = st.columns(2)
        cols[0].text_input("Owner", key=f"{key}_action_owner", max_chars=200)
        cols[1].date_input("Due", value=date.today() + timedelta(days=28), key=f"{key}_action_due",
                           format="DD/MM/YYYY")
        st.form_submit_button("Add action", icon=":material/add_task:", on_click=_add_action, args=(key, common))
    if len(open_actions):
        with st.form(f"{key}_done_form", border=False):
            labels = dict(zip(open_actions["note_id"], open_actions["text"], strict=True))
            st.selectbox("Open action", list(labels), format_func=labels.get, key=f"{key}_done_id")
            st.form_submit_button("Mark done", icon=":material/task_alt:", on_click=_mark_done,
                                  args=(key, who, role, page))


def notes_panel(notes: pd.DataFrame, kpi_id: str, period: str, area: str, page: str, key: str,
                forms_collapsed: bool = False) -> None:
    """The month's commentary and the KPI's actions (this month's, and earlier months' still open), then the forms
    for a role that writes notes (in an expander of their own when ``forms_collapsed``: not inside another one).
    ``notes``: the area's current notes (pages/_data.py meeting_notes)."""
    flash = st.session_state.get(FLASH_KEY)
    if flash and flash[0] == key:
        _, message, ok = st.session_state.pop(FLASH_KEY)
        (st.success if ok else st.error)(message, icon=":material/check_circle:" if ok else ":material/block:")
    mine = notes[notes["kpi_id"] == kpi_id]
    said = mine[(mine["kind"] == NARRATIVE) & (mine["period"] == period)]
    actions = mine[(mine["kind"] == ACTION) & ((mine["period"] == period)
                                                | ((mine["status"] == OPEN) & (mine["period"] < period)))]
    today = date.today()
    if len(said):
        r = said.iloc[-1]
        st.markdown(f'<p class="kpi-sentence">{html.esc(r.text)}</p><p class="kpi-note">{html.esc(_stamp(r))}</p>',
                    unsafe_allow_html=True)
    else:
        st.caption(f"No commentary for {format_period(period)} yet.")
    if len(actions):
        st.markdown("<br>".join(_action_line(r, today) for r in actions.itertuples()), unsafe_allow_html=True)
    writer = _writer()
    if writer is None:
        st.caption("Leadership and analysts write the commentary and actions; this role reads them.")
        return
    args = (kpi_id, period, area, page, key, said.iloc[-1].text if len(said) else "",
            actions[actions["status"] == OPEN], writer)
    if forms_collapsed:
        with st.expander("Write the commentary, add an action or mark one done", icon=":material/edit:"):
            _forms(*args)
    else:
        _forms(*args)


def notes_label(notes: pd.DataFrame, kpi_id: str, period: str) -> str:
    """The expander's title: 'Commentary and actions (1 note, 2 open actions)'."""
    mine = notes[notes["kpi_id"] == kpi_id]
    said = int(((mine["kind"] == NARRATIVE) & (mine["period"] == period)).sum())
    open_ = int(((mine["kind"] == ACTION) & (mine["status"] == OPEN) & (mine["period"] <= period)).sum())
    parts = [p for p in (f"commentary for {format_period(period)}" if said else "",
                         f"{open_} open action{'s' if open_ != 1 else ''}" if open_ else "") if p]
    return "Commentary and actions" + (f" ({', '.join(parts)})" if parts else "")
