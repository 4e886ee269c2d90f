"""Shared UI for the pages: cached data, the page context, URL-bound choices, empty states and small HTML pieces.

Pages stay thin: they read the context set up by ``app.py`` and lay out widgets, text and figures from
``kpi.views.charts``. Nothing here computes a KPI or decides a status; that is the engine's job.

Who is using the dashboard (sign-in or local single-user mode, their role, the pages they see) and the audit log
are wired here too, so the series every page gets is already suppressed for roles without exact figures.
"""

from __future__ import annotations

import getpass
import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitSecretNotFoundError

from etl.db import default_db_path
from kpi import definitions
from kpi.access import audit as audit_log
from kpi.access import roles
from kpi.definitions import Catalogue
from kpi.engine.series import kpi_series, open_readonly
from kpi.views.board import board

CONTEXT_KEY = "_app_context"
USER_KEY = "_app_user"
AUDITED_KEY = "_audit_done"  # sign-in and the last page view already recorded for this session
URL_SEEN_KEY = "_url_seen"  # the URL value each choice last had, to tell new links from old

CSS = """
<style>
[data-testid="stMainBlockContainer"] {padding-top: 2.5rem;}
[data-testid="stMarkdownContainer"] p.kpi-label, [data-testid="stMarkdownContainer"] .kpi-name,
[data-testid="stMarkdownContainer"] p.kpi-big, [data-testid="stMarkdownContainer"] p.kpi-mid,
[data-testid="stMarkdownContainer"] p.kpi-note, [data-testid="stMarkdownContainer"] p.kpi-small {margin-bottom: 0;}
p.kpi-label {font-size: 0.8rem !important; color: #505A5F; margin: 0 0 0.1rem 0; text-transform: none;}
[data-testid="stMarkdownContainer"] h4.kpi-name {font-weight: 700; font-size: 1.02rem !important; line-height: 1.3;
    margin: 0; padding: 0; scroll-margin-top: 0; color: #0B0C0C;}
p.kpi-big {font-size: 1.5rem !important; font-weight: 700; line-height: 1.2; margin: 0; color: #0B0C0C;
           white-space: nowrap;}
p.kpi-mid {font-size: 1.15rem !important; font-weight: 600; line-height: 1.3; margin: 0; color: #0B0C0C;}
p.kpi-small {font-size: 1rem !important; font-weight: 700; line-height: 1.3; margin: 0; color: #0B0C0C;}
.kpi-unit {font-size: 0.8em; font-weight: 600;}
p.kpi-note {font-size: 0.85rem !important; color: #505A5F; line-height: 1.35; margin: 0.1rem 0 0 0;}
.kpi-status {display: inline-block; padding: 0.2rem 0.55rem; border-left: 5px solid #B1B4B6;
             background: #F3F2F1; color: #0B0C0C; font-weight: 700; font-size: 0.95rem; white-space: nowrap;}
.kpi-status.on_track {border-color: #28A197; background: #E3F4F2;}
.kpi-status.within_tolerance {border-color: #F46A25; background: #FDEEE6;}
.kpi-status.off_track {border-color: #801650; background: #F4E4EC;}
.kpi-status.no_data, .kpi-status.too_few, .kpi-status.baseline, .kpi-status.partial {border-color: #3D3D3D;
    background: #F3F2F1;}
.kpi-tile {border-left: 6px solid #B1B4B6; padding: 0.35rem 0.8rem; background: #F8F8F8;}
.kpi-tile.on_track {border-color: #28A197;} .kpi-tile.within_tolerance {border-color: #F46A25;}
.kpi-tile.off_track {border-color: #801650;}
.kpi-tile.no_data, .kpi-tile.too_few, .kpi-tile.baseline, .kpi-tile.partial {border-color: #3D3D3D;}
.kpi-tile .count {font-size: 2rem; font-weight: 700; line-height: 1.1;}
.kpi-tile .what {font-size: 1rem; font-weight: 600;}
.kpi-icon {display: flex; align-items: center; gap: 0.45rem; font-size: 0.85rem; line-height: 1.25;}
.kpi-icon img {flex: none;}
p.kpi-sentence {font-size: 0.92rem !important; color: #0B0C0C; line-height: 1.4; margin: 0;
                border-left: 3px solid #B1B4B6; padding-left: 0.6rem;}
[class*="st-key-kpi_"] [data-testid="stPageLink-NavLink"] * {white-space: normal !important; overflow: visible;
    text-overflow: clip; line-height: 1.35;}  /* the card's links name their KPI in full */
/* Code (st.code, fenced code in markdown) at AA contrast on its grey ground, wrapped rather than scrolled (a
   scrolling block is a keyboard trap for axe's scrollable-region-focusable); inline code at body-text contrast. */
[data-testid="stCode"] pre, [data-testid="stCode"] pre code {white-space: pre-wrap !important;
    overflow-wrap: anywhere; overflow: visible !important;}
[data-testid="stCode"] .token {color: #0B0C0C !important;}
[data-testid="stCode"] .token.keyword, [data-testid="stCode"] .token.function, [data-testid="stCode"] .token.builtin,
[data-testid="stCode"] .token.parameter, [data-testid="stCode"] .token.variable,
[data-testid="stCode"] .token.atrule {color: #1D70B8 !important;}
[data-testid="stCode"] .token.string, [data-testid="stCode"] .token.number, [data-testid="stCode"] .token.boolean,
[data-testid="stCode"] .token.attr-value {color: #00703C !important;}
[data-testid="stCode"] .token.comment {color: #505A5F !important;}
:not(pre) > code {color: #0B0C0C !important;}
.app-eyebrow {font-size: 0.85rem; letter-spacing: 0.04em; text-transform: uppercase; color: #505A5F; margin: 0;}
</style>
"""


@dataclass(frozen=True)
class User:
    """Who is using this session and with which role."""

    who: str  # the signed-in email (or subject), or local:<os user> in local single-user mode
    role: str
    signed_in: bool = False
    previewing: bool = False  # local mode with APP_ROLE set to another role

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


APP_NAME = "APP KPI dashboard"


def document_title(what: str) -> str:
    """The browser tab's title for a page: what it shows, then the product (WCAG 2.4.2, page titled)."""
    return f"{what} · {APP_NAME}"


def page_title(what: str) -> None:
    """Give this page its own document title; may be called again in the run once the page knows more."""
    st.set_page_config(page_title=document_title(what))


# --- data ---------------------------------------------------------------------------------------------

def _stamp(path: Path) -> tuple[int, int]:
    """File modification times of the database and its write-ahead log: a new load gives a new cache key."""
    wal = path.with_name(path.name + ".wal")
    return path.stat().st_mtime_ns, wal.stat().st_mtime_ns if wal.exists() else 0


@st.cache_resource(show_spinner=False)
def _catalogue(path: str, mtime_ns: int) -> Catalogue:
    return definitions.load(path)


def catalogue() -> Catalogue:
    """The KPI definitions, reloaded when the YAML file changes."""
    path = definitions.DEFAULT_PATH
    return _catalogue(str(path), path.stat().st_mtime_ns)


@st.cache_data(show_spinner="Computing the KPI series…", max_entries=16)
def _series(db: str, stamp: tuple[int, int], defs_path: str, defs_mtime_ns: int, area: str,
            as_of: str | None = None) -> pd.DataFrame:
    cat = _catalogue(defs_path, defs_mtime_ns)
    con = open_readonly(db)  # open, compute, close: loads may run while the app is up
    try:
        return kpi_series(con, cat, areas=[area], as_of=date.fromisoformat(as_of) if as_of else None)
    finally:
        con.close()


@st.cache_resource(show_spinner=False)
def _access(path: str, mtime_ns: int, defs_path: str, defs_mtime_ns: int) -> roles.AccessConfig:
    return roles.load(path, _catalogue(defs_path, defs_mtime_ns))


def access_config() -> roles.AccessConfig:
    """access.yaml (roles, pages per role, suppression), reloaded when it changes."""
    path, defs = roles.config_path(), definitions.DEFAULT_PATH
    if not path.exists():
        raise roles.AccessConfigError(f"cannot read the access configuration {path}: no such file")
    return _access(str(path), path.stat().st_mtime_ns, str(defs), defs.stat().st_mtime_ns)


@st.cache_data(show_spinner=False, max_entries=16)
def _series_for(db: str, stamp: tuple[int, int], defs_path: str, defs_mtime_ns: int, role: str,
                access_path: str, access_mtime_ns: int, area: str, as_of: str | None = None) -> pd.DataFrame:
    exact = _series(db, stamp, defs_path, defs_mtime_ns, area, as_of)
    config = _access(access_path, access_mtime_ns, defs_path, defs_mtime_ns)
    return roles.series_for_role(exact, _catalogue(defs_path, defs_mtime_ns), role, config)


def sees_exact_figures() -> bool:
    """Whether this session's role sees exact figures (the analysts); everyone else gets suppressed ones."""
    return roles.exact_figures(current_role(), access_config().roles)


def current_role() -> str:
    """This session's role; without a user (a page run on its own) the most restricted view, never exact."""
    user = st.session_state.get(USER_KEY)
    return user.role if user else "monitor"


def series(db_path: Path, area: str, as_of: str | None = None) -> pd.DataFrame:
    """Every KPI's monthly series for one local area from the database as this session's role may see it
    (suppressed unless the role sees exact figures), cached until the database file changes. With ``as_of``
    (YYYY-MM-DD), as it stood with only the extracts dated on or before that day."""
    defs, access = definitions.DEFAULT_PATH, roles.config_path()
    access_config()  # fail early, with its one-line reason, if access.yaml is wrong
    return _series_for(str(db_path), _stamp(db_path), str(defs), defs.stat().st_mtime_ns, current_role(),
                       str(access), access.stat().st_mtime_ns, area, as_of)


@st.cache_data(show_spinner=False, max_entries=32)
def _board(series: pd.DataFrame, defs_path: str, defs_mtime_ns: int, period: str) -> pd.DataFrame:
    return board(series, _catalogue(defs_path, defs_mtime_ns), period)


def board_summary(ctx: Context) -> pd.DataFrame:
    """The board for the context's month (kpi.views.board.board), cached on the very series this run shows: never
    from a database swapped in since the run read it (a refresh mid-run would mix old and new figures)."""
    defs = definitions.DEFAULT_PATH
    return _board(ctx.series, str(defs), defs.stat().st_mtime_ns, ctx.period)


@st.cache_data(show_spinner=False, max_entries=8)
def _areas(db: str, stamp: tuple[int, int]) -> list[tuple[str, str]]:
    from kpi.engine.area import loaded_areas

    return _with_readonly(db, loaded_areas)


def db_path() -> Path:
    return default_db_path()


def periods_with_data(df: pd.DataFrame) -> list[str]:
    """Months of the data window, newest first."""
    return sorted(df["period"].unique(), reverse=True)


def latest_with_data(df: pd.DataFrame) -> str | None:
    """The newest complete month with a value: a month the extract covers only in part is never the default."""
    keep = df["value"].notna()
    if "complete" in df.columns:
        keep &= df["complete"].astype(bool)
    have = df.loc[keep, "period"]
    return have.max() if len(have) else None


# --- empty and error states -----------------------------------------------------------------------------

def empty_state(path: Path, reason: str, detail: str | None = None) -> None:
    """Tell the user how to get data in, instead of a traceback. The database's path and the commands are for
    analysts; other roles are told the data are not available and whom to ask."""
    if not _sees_paths():
        st.warning({"missing": "No data yet.", "empty": "The database holds no case records yet.",
                    "busy": "The dashboard's data is being updated (a load is running).",
                    "unreadable": "The data could not be read."}[reason], icon=":material/database:")
        st.markdown("Wait a few minutes and reload this page." if reason == "busy"
                    else "Ask the dashboard's analysts to load the data.")
        return
    headline = {
        "missing": f"No database yet at `{path}`.",
        "empty": f"The database at `{path}` holds no case records yet.",
        "busy": f"The database at `{path}` is being updated (a load is running).",
        "unreadable": f"The database at `{path}` could not be read.",
    }[reason]
    st.warning(headline, icon=":material/database:")
    if detail:
        st.caption(f"Details: {detail}")
    if reason == "busy":
        st.markdown("Wait for the load to finish, then reload this page.")
        return
    st.markdown(
        "To explore the dashboard with synthetic demonstration data, run:\n\n"
        "```sh\nmake run\n```\n\n"
        f"or build the demo database yourself with `python -m etl demo --db {path}`.\n\n"
        "To load your own SEN2 extract (COLLECT Blade CSV export), run:\n\n"
        f"```sh\npython -m etl load PATH --db {path}\n```\n\n"
        "The dashboard reads the file named by the `APP_DB` environment variable (default `data/app.duckdb`)."
    )


def _sees_paths() -> bool:
    """Whether this session may see the server's file paths (analysts, who run loads)."""
    try:
        return sees_exact_figures()
    except roles.AccessConfigError:
        return False


def _explaining_failure(path: Path, fn: Callable):
    """``fn()``, or None after showing the empty state that fits the failure (no file, no tables, a load running,
    an unreadable or outdated file)."""
    try:
        return fn()
    except FileNotFoundError:
        empty_state(path, "missing")
        return None
    except duckdb.CatalogException:
        empty_state(path, "empty")
        return None
    except duckdb.IOException as exc:
        busy = "lock" in str(exc).lower()
        empty_state(path, "busy" if busy else "unreadable", None if busy else str(exc).splitlines()[0])
        return None
    except duckdb.Error as exc:
        empty_state(path, "unreadable", str(exc).splitlines()[0])
        return None


def areas_or_explain(path: Path) -> list[tuple[str, str]] | None:
    """(ONS code, name) of every area with case records, or None after showing the right empty state."""
    found = _explaining_failure(path, lambda: _areas(str(path), _stamp(path)))
    if found is not None and not found:
        empty_state(path, "empty")
        return None
    return found


def load_series_or_explain(path: Path, area: str, as_of: str | None = None) -> pd.DataFrame | None:
    """The area's series (as it stood on ``as_of`` when given), or None after showing the right empty state."""
    df = _explaining_failure(path, lambda: series(path, area, as_of))
    if df is not None and (df.empty or latest_with_data(df) is None):
        empty_state(path, "empty")
        return None
    return df


def choose_area(areas: Sequence[tuple[str, str]]) -> tuple[str, str | None]:
    """The local area to show and a note when the link asked for one that is not loaded. With more than one area
    loaded, a sidebar selector (bound to ``?area=``, defaulting to the home area); with one, that area."""
    from kpi.engine.area import default_area

    codes = [c for c, _ in areas]
    names = dict(areas)
    home, _ = home_area_code()
    if len(codes) == 1:
        return codes[0], None
    note = choose_from_url("area", codes, default_area(codes, home), lambda c: names.get(c, c), "the local area")
    area = st.sidebar.selectbox(
        "Local area", codes, key="area", format_func=lambda c: names.get(c, c),
        help=f"{len(codes)} local areas have case records in this database. Every page shows the chosen one; "
             "Benchmarks set it beside England, its region and its statistical neighbours.")
    write_to_url("area", area)
    return area, note


# --- who is using the dashboard ------------------------------------------------------------------------------

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
        config = access_config()
        if auth_configured():
            user = _signed_in_user(config)
        else:
            role, previewing = roles.local_role(config.roles)
            user = User(f"local:{getpass.getuser()}", role, False, previewing)
    except roles.AccessConfigError as exc:
        st.error(f"The dashboard cannot start: {exc}", icon=":material/lock:")
        return None
    if user is None:
        return None
    st.session_state[USER_KEY] = user
    done = st.session_state.setdefault(AUDITED_KEY, {})
    if not done.get("sign_in"):
        done["sign_in"] = True
        audit("sign_in", detail={"mode": "oidc" if user.signed_in else "local", "preview": user.previewing})
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
        done = st.session_state.setdefault(AUDITED_KEY, {})
        if not done.get("denied"):
            done["denied"] = True
            audit("access_denied", who=who, role="none", outcome="refused: no role matches the account's claims")
        st.error(f"{md(who, 200)} has no role in this dashboard. Ask the dashboard's analysts for access.",
                 icon=":material/lock:")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
        return None
    return User(who, role, True, False)


def pages_for(user: User | None, pages: Mapping[str, st.Page]) -> list:
    """The pages (``page id -> st.Page``, ids as in access.yaml) the user may open; a sign-in placeholder when
    there is no user. Pages the role may not see are not in the navigation at all."""
    if user is None:
        return [st.Page(lambda: None, title="Sign in", url_path="sign_in")]
    allowed = [pid for pid in pages if roles.can_see(user.role, pid, access_config().roles)]
    st.session_state["_page_ids"] = {pages[pid].title: pid for pid in allowed}
    return [pages[pid] for pid in allowed]


def can_open(page: str) -> bool:
    """Whether this session's role has the page (an access.yaml id) in its navigation: links to pages the role
    cannot open are not drawn."""
    return roles.can_see(current_role(), page, access_config().roles)


def page_id(page) -> str:
    """The access.yaml id of a page from :func:`pages_for`."""
    return st.session_state.get("_page_ids", {}).get(page.title, page.title)


def require(page: str) -> User:
    """At the top of a restricted page: the user, or a stop with a message if the role may not open it."""
    user = st.session_state.get(USER_KEY)
    if user is None:  # a page opened on its own (a link just after a restart): rerun through app.py to sign in
        user = context().user
    if user is None or not roles.can_see(user.role, page, access_config().roles):
        done = st.session_state.setdefault(AUDITED_KEY, {})
        if user is not None and done.get("view") != f"refused:{page}":  # a direct link to the page: audited
            done["view"] = f"refused:{page}"
            audit("access_denied", page=page, outcome="refused: the page is not available to the role")
        st.error("This page is not available to your role.", icon=":material/lock:")
        st.stop()
    return user


def sidebar_identity(user: User) -> None:
    """Who this is and with which role, always visible; sign-out when signed in; a note when figures are
    suppressed."""
    with st.container(border=True, key="identity"):
        label = roles.describe_mode(user.role, md(user.who, 200) if user.signed_in else None, user.previewing)
        st.markdown(f":material/person: **{label}**")
        if not roles.exact_figures(user.role, access_config().roles):
            rule = access_config().suppression
            st.caption(f"Small numbers ({rule.min_count}–{rule.max_count}) are shown as “c” to protect "
                       "children's privacy, and so are figures that would give them away.")
        if user.signed_in:
            st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="sign_out")


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else None


def audit(event: str, page: str | None = None, detail: dict | None = None, outcome: str = "ok",
          who: str | None = None, role: str | None = None) -> None:
    """Record an event in the audit log (kpi/access/audit.py). A failure to write is shown, never a crash."""
    user = st.session_state.get(USER_KEY)
    try:
        audit_log.record(audit_log.audit_path(db_path()), who=who or (user.who if user else "unknown"),
                         role=role or (user.role if user else "none"), event=event, page=page, detail=detail,
                         outcome=outcome, session_id=_session_id())
    except (OSError, duckdb.Error) as exc:
        st.toast(f"Could not write the audit log: {str(exc).splitlines()[0]}", icon=":material/warning:")


MAX_PARAM_CHARS = 200  # a URL value longer than this is cut in the audit log (a 60 KB area= in every view)


def _cut(value: object, limit: int = MAX_PARAM_CHARS) -> object:
    text = value if isinstance(value, str) else None
    if text is None or len(text) <= limit:
        return value
    return f"{text[:limit]}… ({len(text):,} characters)"


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
    user = st.session_state.get(USER_KEY)
    who = dict(who=user.who if user else "unknown", role=user.role if user else "none", session_id=_session_id())
    done = st.session_state.setdefault(AUDITED_KEY, {})
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
    try:
        audit_log.record(audit_log.audit_path(db_path()), **view.event)
    except (OSError, duckdb.Error):
        pass


def audit_page_view(page, refused: str | None = None) -> None:
    """Record a page view now (see :func:`prepare_page_view`)."""
    record_page_view(prepare_page_view(page, refused))


def audit_download(page: str, file_name: str, rows: int | None = None) -> None:
    """``on_click`` of a download button: which file, from which page, how many rows, exact or suppressed."""
    detail = {"file": file_name, "rows": rows, "figures": "exact" if roles.exact_figures(
        current_role(), access_config().roles) else "suppressed"}
    audit("download", page=page, detail=detail)


# --- choices bound to the URL ------------------------------------------------------------------------------

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


@st.cache_data(show_spinner="Querying the case records…", max_entries=64)
def _db_call(db: str, stamp: tuple[int, int], name: str, args: tuple, _fn: Callable) -> object:
    con = open_readonly(db)  # open, query, close: loads may run while the app is up
    try:
        return _fn(con, *args)
    finally:
        con.close()


def db_call(fn: Callable, *args):
    """``fn(con, *args)`` on a read-only connection to the dashboard's database, cached until the database file
    changes. For the engine's query functions (kpi.engine.explore, kpi.engine.explain); args must be hashable values."""
    path = db_path()
    return _db_call(str(path), _stamp(path), f"{fn.__module__}.{fn.__qualname__}", args, fn)


# --- context -------------------------------------------------------------------------------------------

def set_context(ctx: Context) -> None:
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


# --- small HTML pieces ------------------------------------------------------------------------------------

def esc(text: object) -> str:
    return html.escape(str(text))


_PLAIN = re.compile(r"[A-Za-z0-9 \-]*")
_EMAIL = re.compile(r"[A-Za-z0-9.+\-]+@[A-Za-z0-9.\-]+")


def md(text: object, limit: int = 80) -> str:
    """A user-controlled value (a URL parameter, a claim, a message quoting input) made inert inside Streamlit
    markdown. Letters, digits, spaces and hyphens are shown as they are (``E06000056``, ``2023-07``), and so is
    a plain email address; anything else goes in a code span, where no link, image, autolink, HTML, emphasis,
    colour or icon directive can form. Line breaks are flattened and the value is cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    if _PLAIN.fullmatch(flat) or _EMAIL.fullmatch(flat):
        return flat
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    return f"{fence} {flat} {fence}"


def cell(label: str, main: str, note: str | None = None, size: str = "big") -> str:
    """A labelled value: small label above, the value, a muted note below."""
    shown = esc(main)
    if main.endswith(" weeks"):  # a smaller unit keeps '23.4 weeks' within its column
        shown = f'{esc(main.removesuffix(" weeks"))}<span class="kpi-unit"> weeks</span>'
    out = f'<p class="kpi-label">{esc(label)}</p><p class="kpi-{size}">{shown}</p>'
    if note:
        out += f'<p class="kpi-note">{esc(note)}</p>'
    return out


def status_badge(status: str | None, text: str) -> str:
    """Status in words and symbol; the tint is only a secondary cue."""
    css = status if isinstance(status, str) and status else "not_in_plan"
    return f'<span class="kpi-status {esc(css)}">{esc(text)}</span>'


def icon_cell(label: str, svg: str, text: str) -> str:
    """A labelled icon with its meaning written beside it (the icon is never the only cue)."""
    from kpi.views.icons import data_uri

    return (f'<p class="kpi-label">{esc(label)}</p><div class="kpi-icon"><img src="{data_uri(svg)}" '
            f'alt="{esc(text)}" width="34" height="34"/><span>{esc(text)}</span></div>')


# --- published comparators (DfE) ------------------------------------------------------------------------------

def home_area_code() -> tuple[str | None, str | None]:
    """(the configured home area's code, None) or (None, the configuration problem in words)."""
    from kpi.engine import area as area_config

    try:
        return area_config.load().area_code, None
    except area_config.AreaConfigError as exc:
        return None, str(exc)


def _with_readonly(db: str, fn: Callable, *args):
    con = open_readonly(db)
    try:
        return fn(con, *args)
    finally:
        con.close()


@st.cache_data(show_spinner=False, max_entries=64)
def _kpi_comparison(db: str, stamp: tuple[int, int], defs_path: str, defs_mtime_ns: int, kpi_id: str,
                    area_code: str):
    from kpi.views.comparison import kpi_comparison

    kpi = _catalogue(defs_path, defs_mtime_ns).measure(kpi_id)  # a KPI or a published-only measure
    return _with_readonly(db, kpi_comparison, kpi, area_code)


def kpi_comparison(db_path: Path, kpi_id: str, area_code: str):
    """The KPI's published comparators for the home area (kpi.views.comparison.KpiComparison), cached per load."""
    defs = definitions.DEFAULT_PATH
    return _kpi_comparison(str(db_path), _stamp(db_path), str(defs), defs.stat().st_mtime_ns, kpi_id, area_code)


@st.cache_data(show_spinner=False, max_entries=8)
def _comparable(db: str, stamp: tuple[int, int], defs_path: str, defs_mtime_ns: int) -> list[str]:
    from kpi.views.comparison import comparable_kpis

    return _with_readonly(db, comparable_kpis, _catalogue(defs_path, defs_mtime_ns))


def comparable_kpis(db_path: Path) -> list[str]:
    defs = definitions.DEFAULT_PATH
    return _comparable(str(db_path), _stamp(db_path), str(defs), defs.stat().st_mtime_ns)


@st.cache_data(show_spinner=False, max_entries=64)
def _benchmark_table(db: str, stamp: tuple[int, int], kpi_id: str, area_code: str, year: int, polarity: str):
    from kpi.engine.benchmark import BenchmarkError, benchmark

    try:
        return _with_readonly(db, benchmark, kpi_id, area_code, year, polarity), None
    except BenchmarkError as exc:
        return None, str(exc)


def benchmark_table(db_path: Path, kpi_id: str, area_code: str, year: int, polarity: str):
    """(the benchmark table for a year, None) or (None, why not)."""
    return _benchmark_table(str(db_path), _stamp(db_path), kpi_id, area_code, year, polarity)


@st.cache_data(show_spinner=False, max_entries=8)
def _reconciliation(db: str, stamp: tuple[int, int], defs_path: str, defs_mtime_ns: int, area_code: str):
    from kpi.engine.benchmark import BenchmarkError, resolve_area
    from kpi.engine.reconcile import ReconcileError, reconcile

    cat = _catalogue(defs_path, defs_mtime_ns)
    try:
        return _with_readonly(db, lambda con: reconcile(con, cat, resolve_area(con, area_code))), None
    except (ReconcileError, BenchmarkError) as exc:
        return None, str(exc)


def reconciliation(db_path: Path, area_code: str):
    """(the reconciliation table, None) or (None, why not)."""
    defs = definitions.DEFAULT_PATH
    return _reconciliation(str(db_path), _stamp(db_path), str(defs), defs.stat().st_mtime_ns, area_code)


def comparison_table(wide: pd.DataFrame) -> None:
    """The year-by-year comparison table (kpi.views.comparison.comparison_wide) with values to one decimal place and the
    quartile in words."""
    from kpi.views.benchmark_charts import quartile_text

    shown = wide.assign(Quartile=[quartile_text(q) for q in wide["Quartile"]])
    numbers = [c for c in shown.columns if c not in ("Year", "Rank", "Of", "Quartile")]
    st.dataframe(shown, hide_index=True, width="stretch", placeholder="–", column_config={
        "Year": st.column_config.NumberColumn(format="%d", pinned=True),
        **{c: st.column_config.NumberColumn(c, format="%.1f") for c in numbers}})
