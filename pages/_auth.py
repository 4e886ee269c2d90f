"""Who is using the dashboard and what they may open: OIDC sign-in when ``.streamlit/secrets.toml`` has an
``[auth]`` section, otherwise local single-user mode; the role from access.yaml (kpi/access/roles.py); the pages in
the role's navigation; the guard at the top of a restricted page; the identity shown in the sidebar.

The series every page gets is already suppressed for roles without exact figures (pages/_data.py series, with the
role of pages/_session.py).
"""

from __future__ import annotations

import getpass
from collections.abc import Mapping

import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from kpi.access import roles
from pages import _audit as audit
from pages import _data as data
from pages._html import md
from pages._session import PAGE_IDS_KEY, USER_KEY, User, audited, context, current_role, session_user


def auth_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit OIDC sign-in)."""
    try:
        return "auth" in st.secrets
    except (StreamlitSecretNotFoundError, FileNotFoundError):
        return False


def current_user() -> User | None:
    """The user of this session: signed in with OIDC when it is configured, otherwise local single-user mode.
    None after drawing the sign-in prompt, a no-access message or a configuration error (the caller stops)."""
    try:
        config = data.access_config()
        if auth_configured():
            user = _signed_in_user(config)
        else:
            role, previewing = roles.local_role(config.roles)
            user = User(f"local:{getpass.getuser()}", role, False, previewing, roles.allowed_areas(role, config.roles))
    except roles.AccessConfigError as exc:
        st.error(f"The dashboard cannot start: {exc}", icon=":material/lock:")
        return None
    if user is None:
        return None
    st.session_state[USER_KEY] = user
    done = audited()
    if not done.get("sign_in"):
        done["sign_in"] = True
        audit.record("sign_in", detail={"mode": "oidc" if user.signed_in else "local", "preview": user.previewing})
    return user


def _signed_in_user(config: roles.AccessConfig) -> User | None:
    if not st.user.is_logged_in:
        st.markdown("Sign in with your organisation's account to see the dashboard.")
        st.button("Sign in", on_click=st.login, icon=":material/login:", type="primary")
        return None
    claims = st.user.to_dict()
    who = str(claims.get("email") or claims.get("sub") or "unknown")
    role = roles.role_for(claims, config.roles)
    if role is None:
        done = audited()
        if not done.get("denied"):
            done["denied"] = True
            audit.record("access_denied", who=who, role="none",
                         outcome="refused: no role matches the account's claims")
        st.error(f"{md(who, 200)} has no role in this dashboard. Ask the dashboard's analysts for access.",
                 icon=":material/lock:")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
        return None
    return User(who, role, True, False, roles.allowed_areas(role, config.roles, claims))


def pages_for(user: User | None, pages: Mapping[str, st.Page]) -> list:
    """The pages (``page id -> st.Page``, ids as in access.yaml) the user may open; a sign-in placeholder when
    there is no user. Pages the role may not see are not in the navigation at all."""
    if user is None:
        return [st.Page(lambda: None, title="Sign in", url_path="sign_in")]
    allowed = [pid for pid in pages if roles.can_see(user.role, pid, data.access_config().roles)]
    st.session_state[PAGE_IDS_KEY] = {pages[pid].title: pid for pid in allowed}
    return [pages[pid] for pid in allowed]


def can_open(page: str) -> bool:
    """Whether this session's role has the page (an access.yaml id) in its navigation: links to pages the role
    cannot open are not drawn."""
    return roles.can_see(current_role(), page, data.access_config().roles)


def require(page: str) -> User:
    """At the top of a restricted page: the user, or a stop with a message if the role may not open it."""
    user = session_user()
    if user is None:  # a page opened on its own (a link just after a restart): rerun through app.py to sign in
        user = context().user
    if user is None or not roles.can_see(user.role, page, data.access_config().roles):
        done = audited()
        if user is not None and done.get("view") != f"refused:{page}":  # a direct link to the page: audited
            done["view"] = f"refused:{page}"
            audit.record("access_denied", page=page, outcome="refused: the page is not available to the role")
        st.error("This page is not available to your role.", icon=":material/lock:")
        st.stop()
    return user


def sidebar_identity(user: User) -> None:
    """Who this is and with which role, always visible; sign-out when signed in; a note when figures are
    suppressed."""
    with st.container(border=True, key="identity"):
        label = roles.describe_mode(user.role, md(user.who, 200) if user.signed_in else None, user.previewing)
        st.markdown(f":material/person: **{label}**")
        if not roles.exact_figures(user.role, data.access_config().roles):
            rule = data.access_config().suppression
            st.caption(f"Small numbers ({rule.min_count}–{rule.max_count}) are shown as “c” to protect "
                       "children's privacy, and so are figures that would give them away.")
        if user.signed_in:
            st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="sign_out")
