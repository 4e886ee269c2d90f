"""The audit log as the pages write it: sign-ins, refused access, page views with their URL parameters,
downloads and SQL queries, each with who, which role and which session (stored by kpi/access/audit.py).

A failure to write is shown as a notice, never a crash; a page view is recorded once per change of page or
parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import streamlit as st

from pages import _data as data
from pages._session import PAGE_IDS_KEY, audited, sees_exact_figures, session_user

MAX_PARAM_CHARS = 200  # a URL value longer than this is cut in the audit log (a 60 KB area= in every view)


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else None


def record(event: str, page: str | None = None, detail: dict | None = None, outcome: str = "ok",
           who: str | None = None, role: str | None = None) -> None:
    """Record an event in the audit log. A failure to write is shown, never a crash."""
    user = session_user()
    failure = data.record_audit(who=who or (user.who if user else "unknown"),
                                role=role or (user.role if user else "none"), event=event, page=page,
                                detail=detail, outcome=outcome, session_id=_session_id())
    if failure:
        st.toast(f"Could not write the audit log: {failure}", icon=":material/warning:")


def download(page: str, file_name: str, rows: int | None = None) -> None:
    """``on_click`` of a download button: which file, from which page, how many rows, exact or suppressed."""
    detail = {"file": file_name, "rows": rows, "figures": "exact" if sees_exact_figures() else "suppressed"}
    record("download", page=page, detail=detail)


def _cut(value: object, limit: int = MAX_PARAM_CHARS) -> object:
    text = value if isinstance(value, str) else None
    if text is None or len(text) <= limit:
        return value
    return f"{text[:limit]}… ({len(text):,} characters)"


def page_id(page) -> str:
    """The access.yaml id of a page in the navigation (pages/_auth.py pages_for)."""
    return st.session_state.get(PAGE_IDS_KEY, {}).get(page.title, page.title)


def requested_path(page, pages: Mapping[str, st.Page]) -> str | None:
    """After ``st.navigation``: the path the browser asked for when it is not the page being shown (a page the
    role may not open, or none at all: Streamlit then shows the default page), else None."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.util import calc_hash

    ctx = get_script_run_ctx()
    if ctx is None:
        return None
    name = ctx.pages_manager.intended_page_name
    wanted = ctx.pages_manager.intended_page_script_hash
    shown = page._url_path  # noqa: SLF001 - url_path is "" for the default page; its hash is of this name
    if name and name not in (shown, page.url_path):
        return name
    if wanted and wanted != calc_hash(shown):
        known = {calc_hash(p._url_path): p._url_path for p in pages.values()}  # noqa: SLF001
        return known.get(wanted, "(an unknown page)")
    return None


@dataclass
class PageView:
    """A page view to record, read from the session before the page runs (:func:`prepare_page_view`)."""

    key: str
    done: dict
    event: dict


def prepare_page_view(page, refused: str | None = None) -> PageView:
    """The page view with its parameters (the URL's, each cut to MAX_PARAM_CHARS). When the browser asked for
    another page (``refused``: one the role may not open), the attempt is recorded as such (``access_denied``), not
    as a view of the page shown instead."""
    pid = page_id(page)
    params = {k: _cut(st.query_params.get(k)) for k in sorted(st.query_params.keys())}
    user = session_user()
    who = dict(who=user.who if user else "unknown", role=user.role if user else "none", session_id=_session_id())
    done = audited()
    if refused:
        return PageView(f"refused:{refused}?{sorted(params.items())}", done, dict(
            event="access_denied", page=str(_cut(refused, 100)), detail={**params, "shown_instead": pid},
            outcome="refused: the page is not available to the role", **who))
    return PageView(f"{pid}?{sorted(params.items())}", done, dict(event="page_view", page=pid, detail=params, **who))


def record_page_view(view: PageView) -> None:
    """Record the view once per change of page or parameters. Reads no Streamlit state (after st.stop() it
    cannot be read), so a failure to write is not shown: it is left to the next event's own notice."""
    if view.done.get("view") == view.key:
        return
    view.done["view"] = view.key
    data.record_audit(**view.event)
