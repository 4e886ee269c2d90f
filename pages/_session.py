"""What one browser session holds between runs: who is using it, what they have been shown, and the context
``app.py`` prepares for the page it runs (the catalogue, the area's series, the month, the area).

Kept apart from sign-in (pages/_auth.py) and the audit log (pages/_audit.py), which both read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from kpi.access import roles
from kpi.definitions import Catalogue
from pages import _data as data

CONTEXT_KEY = "_app_context"
USER_KEY = "_app_user"
AUDITED_KEY = "_audit_done"  # sign-in and the last page view already recorded for this session
PAGE_IDS_KEY = "_page_ids"  # page title -> access.yaml id of the pages in this session's navigation


@dataclass(frozen=True)
class User:
    """Who is using this session and with which role."""

    who: str  # the signed-in email (or subject), or local:<os user> in local single-user mode
    role: str
    signed_in: bool = False
    previewing: bool = False  # local mode with APP_ROLE set to another role
    areas: frozenset[str] | None = None  # ONS codes this user may see (access.yaml roles.areas); None: every area

    @property
    def label(self) -> str:
        return roles.describe_mode(self.role, self.who if self.signed_in else None, self.previewing)


@dataclass(frozen=True)
class Context:
    """What every page needs for one run: the catalogue, the chosen area's whole series (suppressed unless the
    role sees exact figures), the chosen month, the chosen local area and the user."""

    catalogue: Catalogue
    series: pd.DataFrame
    period: str
    user: User | None = None
    area: str | None = None  # ONS code of the local area shown
    area_name: str = ""
    areas: tuple[tuple[str, str], ...] = ()  # every area with case records: (code, name)


def session_user() -> User | None:
    """The user signed in (or in local mode) for this session, once app.py has set it."""
    return st.session_state.get(USER_KEY)


def current_role() -> str:
    """This session's role; without a user (a page run on its own) the most restricted view, never exact."""
    user = session_user()
    return user.role if user else "monitor"


def sees_exact_figures() -> bool:
    """Whether this session's role sees exact figures (the analysts); everyone else gets suppressed ones."""
    return roles.exact_figures(current_role(), data.access_config().roles)


def audited() -> dict:
    """What the audit log already holds for this session (sign-in, the last page view), to record each once."""
    return st.session_state.setdefault(AUDITED_KEY, {})


def set_context(ctx: Context) -> None:
    """Hand this run's context to the page app.py is about to run."""
    st.session_state[CONTEXT_KEY] = ctx


def context() -> Context:
    """The context ``app.py`` prepared for this run."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory or CONTEXT_KEY not in st.session_state:
        # Until the entrypoint has called st.navigation in a server process, Streamlit treats the pages/ folder
        # as an old-style multipage app, so the first request for a page's URL (a shared link opened just after a
        # restart) runs the page on its own. Switch that emulation off and rerun: app.py then runs and brings back
        # the same page, with the month and KPI from the URL.
        PagesManager.uses_pages_directory = False
        st.rerun()
    return st.session_state[CONTEXT_KEY]
