"""Choices bound to the URL: the area, month, KPI and every filter live in the address, so a link reopens the view.

Before a widget is drawn its value is taken from ``?key=`` when the link is new to this session; after it, the URL is
written back. A value the link asks for that is not available falls back with a note, never a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

import streamlit as st

from pages import _data as data
from pages._html import md

URL_SEEN_KEY = "_url_seen"  # the URL value each choice last had, to tell new links from old


def choose_from_url(key: str, options: Sequence[str], default: str, describe: Callable[[str], str],
                    what: str) -> str | None:
    """Before the widget keyed ``key`` is drawn: adopt ``?key=`` from the URL when it is new to this session
    (a shared link, a link from another page), otherwise keep the widget's own value. Returns a note to show
    when the URL asks for something that is not available: the view falls back, it never fails."""
    raw = st.query_params.get(key)
    seen = st.session_state.setdefault(URL_SEEN_KEY, {})
    note = None
    if raw is not None and raw != seen.get(key):
        seen[key] = raw
        if raw in options:
            st.session_state[key] = raw
        else:
            fallback = st.session_state.get(key) if st.session_state.get(key) in options else default
            note = (f"The link asks for {what} “{md(raw)}”, which is not available. "
                    f"Showing {describe(fallback)} instead.")
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    return note


def as_of_from_url() -> tuple[str | None, str | None]:
    """The ``as_of`` day of the link (YYYY-MM-DD), or None; and a note when the link's value is not a day."""
    text = st.query_params.get("as_of")
    if not text:
        return None, None
    try:
        return date.fromisoformat(text).isoformat(), None
    except ValueError:
        return None, (f"The link asks for the figures as they stood on {md(text)}, which is not a day written "
                      "YYYY-MM-DD: showing the latest figures.")


def write_to_url(key: str, value: str) -> None:
    """After the widget: the URL always names the current choice, so the address reopens this view."""
    st.query_params[key] = value
    st.session_state.setdefault(URL_SEEN_KEY, {})[key] = value


def choose_many_from_url(key: str, options: Sequence[str]) -> list[str]:
    """Like ``choose_from_url`` for a multiselect: adopt the repeated ``?key=a&key=b`` values that are new to this
    session, keeping only those available. Returns the values that were asked for but are not available."""
    raw = st.query_params.get_all(key)
    seen = st.session_state.setdefault(URL_SEEN_KEY, {})
    dropped: list[str] = []
    if raw and raw != seen.get(key):
        seen[key] = raw
        st.session_state[key] = [v for v in raw if v in options]
        dropped = [v for v in raw if v not in options]
    st.session_state[key] = [v for v in st.session_state.get(key, []) if v in options]
    return dropped


def write_many_to_url(key: str, values: Sequence[str]) -> None:
    """After a multiselect: the URL names its values (the key is left out when none are chosen)."""
    if values:
        st.query_params[key] = list(values)
    elif key in st.query_params:
        del st.query_params[key]
    st.session_state.setdefault(URL_SEEN_KEY, {})[key] = list(values)


def forget_url(key: str) -> None:
    """Remove a choice from the URL (it no longer applies to the view)."""
    if key in st.query_params:
        del st.query_params[key]
    st.session_state.setdefault(URL_SEEN_KEY, {}).pop(key, None)


def choose_area(areas: Sequence[tuple[str, str]]) -> tuple[str, str | None]:
    """The local area to show and a note when the link asked for one that is not loaded. With more than one area
    loaded, a sidebar selector (bound to ``?area=``, defaulting to the home area); with one, that area."""
    from kpi.engine.area import default_area

    codes = [c for c, _ in areas]
    names = dict(areas)
    home, _ = data.home_area_code()
    if len(codes) == 1:
        return codes[0], None
    note = choose_from_url("area", codes, default_area(codes, home), lambda c: names.get(c, c), "the local area")
    area = st.sidebar.selectbox(
        "Local area", codes, key="area", format_func=lambda c: names.get(c, c),
        help=f"{len(codes)} local areas have case records in this database. Every page shows the chosen one; "
             "Benchmarks set it beside England, its region and its statistical neighbours.")
    write_to_url("area", area)
    return area, note


def assigned_areas(areas: Sequence[tuple[str, str]], user) -> list[tuple[str, str]]:
    """The loaded areas this user may see (access.yaml ``roles.areas``, or their area claim). A link naming another
    area is refused: recorded in the audit log as ``access_denied``, removed from the URL, and said on the page."""
    from kpi.access.roles import may_see_area
    from pages import _audit as audit

    allowed = getattr(user, "areas", None)
    asked = st.query_params.get("area")
    if asked and not may_see_area(asked, allowed):
        audit.record("access_denied", detail={"area": str(asked)[:200]}, outcome="refused: area not assigned")
        forget_url("area")
        st.error(f"The link asks for the local area “{md(asked)}”, which is not assigned to you: it is refused "
                 "(and recorded). Showing one of your areas instead.", icon=":material/lock:")
    return [(code, name) for code, name in areas if may_see_area(code, allowed)]
