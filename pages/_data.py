"""The pages' one door to the data: every database connection the dashboard opens and every cache in front of it.

Pages and ``app.py`` never open the database, import duckdb or write SQL: they call the functions here. Each opens a
short-lived read-only connection (open, compute, close: a load may swap a new file in while the app is up,
etl/refresh.py), calls the kpi/ engine and caches the answer until the database file changes (the cache key holds
:func:`stamp`). The configuration files (kpi_definitions.yaml, access.yaml, area.yaml) are read here too, cached
until they change. The SQL console's sandbox and the audit log open their own connections inside kpi/access; the
pages reach them through here as well.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from etl.db import default_db_path
from kpi import definitions
from kpi.access import audit as audit_log
from kpi.access import roles, sql_sandbox
from kpi.definitions import Catalogue
from kpi.engine.series import kpi_series, open_readonly
from kpi.views.board import board

Stamp = tuple[int, int]
FileKey = tuple[str, int]  # a configuration file's path and modification time: a new version gives a new cache key


def db_path() -> Path:
    """The dashboard's database (``APP_DB``, default data/app.duckdb)."""
    return default_db_path()


def stamp(path: Path) -> Stamp:
    """File modification times of the database and its write-ahead log: a new load gives a new cache key."""
    wal = path.with_name(path.name + ".wal")
    return path.stat().st_mtime_ns, wal.stat().st_mtime_ns if wal.exists() else 0


RUN_STAMP_KEY = "_data_stamp_run"


def pin_run(path: Path) -> None:
    """Note the database version this run began on (app.py, at the top of every run), so that a page reading the
    database more than once can tell whether a load swapped a new file in between (:func:`swapped_during_run`)."""
    try:
        st.session_state[RUN_STAMP_KEY] = stamp(path)
    except FileNotFoundError:
        st.session_state.pop(RUN_STAMP_KEY, None)


def swapped_during_run(path: Path) -> bool:
    """True when the database is no longer the version this run began on: figures read before and after would
    come from two loads, so the page must be drawn again, wholly on the new one."""
    began = st.session_state.get(RUN_STAMP_KEY)
    try:
        return began is not None and stamp(path) != began
    except FileNotFoundError:
        return True


# --- configuration files ---------------------------------------------------------------------------------------

def _file_key(path: Path) -> FileKey:
    return str(path), path.stat().st_mtime_ns


def _defs() -> FileKey:
    return _file_key(definitions.DEFAULT_PATH)


@st.cache_resource(show_spinner=False)
def _catalogue(defs: FileKey) -> Catalogue:
    return definitions.load(defs[0])


def catalogue() -> Catalogue:
    """The KPI definitions, reloaded when the YAML file changes."""
    return _catalogue(_defs())


def _plans_key() -> tuple[FileKey, ...]:
    from kpi import area_plans

    return tuple(_file_key(f) for f in area_plans.plan_files())


@st.cache_resource(show_spinner=False)
def _plan_book(defs: FileKey, plans: tuple[FileKey, ...], home: str | None):
    from kpi import area_plans

    return area_plans.load(_catalogue(defs), home)


def plan_book():
    """Every area's plans (kpi/area_plans.py: plans/*.yaml and the home area's), reloaded when a file changes.
    Raises kpi.area_plans.AreaPlansError naming the file and field at fault."""
    return _plan_book(_defs(), _plans_key(), home_area_code()[0])


def area_catalogue(area: str, period: str) -> Catalogue:
    """The catalogue with ``area``'s plan in force in ``period`` (no plan at all for an area without one)."""
    return plan_book().catalogue_for(area, period)


@st.cache_resource(show_spinner=False)
def _access(access: FileKey, defs: FileKey) -> roles.AccessConfig:
    return roles.load(access[0], _catalogue(defs))


def _access_key() -> FileKey:
    path = roles.config_path()
    if not path.exists():
        raise roles.AccessConfigError(f"cannot read the access configuration {path}: no such file")
    return _file_key(path)


def access_config() -> roles.AccessConfig:
    """access.yaml (roles, pages per role, suppression), reloaded when it changes."""
    return _access(_access_key(), _defs())


def home_area_code() -> tuple[str | None, str | None]:
    """(the configured home area's code, None) or (None, the configuration problem in words)."""
    from kpi.engine import area as area_config

    try:
        return area_config.load().area_code, None
    except area_config.AreaConfigError as exc:
        return None, str(exc)


# --- reading the database ----------------------------------------------------------------------------------------

def read(fn: Callable, *args, db: Path | str | None = None, **kwargs):
    """``fn(con, *args, **kwargs)`` on a read-only connection opened for the call and closed after it; not cached
    (for answers that hold the time they were made)."""
    con = open_readonly(db if db is not None else db_path())
    try:
        return fn(con, *args, **kwargs)
    finally:
        con.close()


@st.cache_data(show_spinner="Querying the case records…", max_entries=64)
def _db_call(db: str, at: Stamp, name: str, args: tuple, _fn: Callable) -> object:
    return read(_fn, *args, db=db)


def db_call(fn: Callable, *args):
    """``fn(con, *args)`` on a read-only connection to the dashboard's database, cached until the database file
    changes. For the engine's query functions (kpi.engine.explore, kpi.engine.explain, the waits); args must be
    hashable values."""
    path = db_path()
    return _db_call(str(path), stamp(path), f"{fn.__module__}.{fn.__qualname__}", args, fn)


@st.cache_data(show_spinner="Computing the KPI series…", max_entries=16)
def _series(db: str, at: Stamp, defs: FileKey, area: str, as_of: str | None = None,
            plans: tuple[FileKey, ...] = ()) -> pd.DataFrame:
    return read(kpi_series, _catalogue(defs), areas=[area], as_of=date.fromisoformat(as_of) if as_of else None,
                plans=plan_book(), db=db)


@st.cache_data(show_spinner=False, max_entries=16)
def _series_for(db: str, at: Stamp, defs: FileKey, role: str, access: FileKey, area: str,
                as_of: str | None = None) -> pd.DataFrame:
    exact = _series(db, at, defs, area, as_of, _plans_key())
    return roles.series_for_role(exact, _catalogue(defs), role, _access(access, defs))


def series(path: Path, area: str, role: str, as_of: str | None = None) -> pd.DataFrame:
    """Every KPI's monthly series for one local area as ``role`` may see it (suppressed unless the role sees exact
    figures), cached until the database file changes. With ``as_of`` (YYYY-MM-DD), as it stood with only the
    extracts dated on or before that day."""
    access = _access_key()
    access_config()  # fail early, with its one-line reason, if access.yaml is wrong
    return _series_for(str(path), stamp(path), _defs(), role, access, area, as_of)


@st.cache_data(show_spinner=False, max_entries=32)
def _board(series: pd.DataFrame, defs: FileKey, period: str, plans: tuple[FileKey, ...] = ()) -> pd.DataFrame:
    area = series["area_code"].iloc[0] if len(series) else None
    return board(series, area_catalogue(area, period) if area else _catalogue(defs), period)


def board_summary(series: pd.DataFrame, period: str) -> pd.DataFrame:
    """The board for the month (kpi.views.board.board) under the series' area's plan in force, cached on the very
    series this run shows: never from a database swapped in since the run read it (a refresh mid-run would mix old
    and new figures)."""
    return _board(series, _defs(), period, _plans_key())


@st.cache_data(show_spinner="Computing the portfolio…", max_entries=8)
def _portfolio_inputs(db: str, at: Stamp, defs: FileKey, plans: tuple[FileKey, ...], role: str, access: FileKey,
                      areas: tuple[str, ...]):
    from kpi.views.portfolio import read_inputs

    series, names, as_at = read(read_inputs, _catalogue(defs), plan_book(), list(areas), db=db)
    if len(series):
        series = pd.concat([roles.series_for_role(rows, _catalogue(defs), role, _access(access, defs))
                            for _, rows in series.groupby("area_code")], ignore_index=True)  # per area
    return series, names, as_at


def portfolio_inputs(path: Path, role: str, areas: list[str]):
    """(series, names, as-at dates) of the areas with a plan among ``areas``, as ``role`` may see them (suppressed
    per area unless the role sees exact figures), cached until the database or a plan file changes."""
    book = plan_book()
    planned = tuple(a for a in areas if book.plans(a))
    return _portfolio_inputs(str(path), stamp(path), _defs(), _plans_key(), role, _access_key(), planned)


def board_pack(area: str, role: str, period: str, since: str | None = None) -> bytes:
    """The month's board pack as a PDF (kpi.views.pack, printed by Chromium): the area's figures as ``role`` sees
    them, with its notes and, with ``since``, the changes since that meeting. Made when asked for (a download
    button's callable), never cached: notes change."""
    from kpi.views.pack import load_pack, pack_html
    from kpi.views.pdf import html_to_pdf_bytes

    return html_to_pdf_bytes(pack_html(load_pack(db_path(), catalogue(), access_config(), period, role, area,
                                                 since, plans=plan_book())))


def pdf_printer_missing() -> str | None:
    """Why no board pack PDF can be printed here (no Chromium: how to install it), or None."""
    from kpi.views.pdf import BrowserMissing, chromium

    try:
        chromium()
    except BrowserMissing as exc:
        return str(exc)
    return None


@st.cache_data(show_spinner=False, max_entries=8)
def _areas(db: str, at: Stamp) -> list[tuple[str, str]]:
    from kpi.engine.area import loaded_areas

    return read(loaded_areas, db=db)


def areas(path: Path) -> list[tuple[str, str]]:
    """(ONS code, name) of every area with case records, cached until the database file changes."""
    return _areas(str(path), stamp(path))


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


def read_or_failure(fn: Callable[[], object]) -> tuple[object, tuple[str, str | None] | None]:
    """``(fn(), None)``, or ``(None, (reason, detail))`` when the database cannot answer: ``missing`` (no file),
    ``empty`` (no tables), ``busy`` (a load holds it) or ``unreadable`` (with the error's first line)."""
    try:
        return fn(), None
    except FileNotFoundError:
        return None, ("missing", None)
    except duckdb.CatalogException:
        return None, ("empty", None)
    except duckdb.IOException as exc:
        busy = "lock" in str(exc).lower()
        return None, ("busy", None) if busy else ("unreadable", str(exc).splitlines()[0])
    except duckdb.Error as exc:
        return None, ("unreadable", str(exc).splitlines()[0])


# --- published comparators (DfE) ---------------------------------------------------------------------------------

@st.cache_data(show_spinner=False, max_entries=64)
def _kpi_comparison(db: str, at: Stamp, defs: FileKey, kpi_id: str, area_code: str):
    from kpi.views.comparison import kpi_comparison

    kpi = _catalogue(defs).measure(kpi_id)  # a KPI or a published-only measure
    return read(kpi_comparison, kpi, area_code, db=db)


def kpi_comparison(path: Path, kpi_id: str, area_code: str):
    """The KPI's published comparators for the home area (kpi.views.comparison.KpiComparison), cached per load."""
    return _kpi_comparison(str(path), stamp(path), _defs(), kpi_id, area_code)


@st.cache_data(show_spinner=False, max_entries=8)
def _comparable(db: str, at: Stamp, defs: FileKey) -> list[str]:
    from kpi.views.comparison import comparable_kpis

    return read(comparable_kpis, _catalogue(defs), db=db)


def comparable_kpis(path: Path) -> list[str]:
    """The KPIs with published comparators in the database, cached per load."""
    return _comparable(str(path), stamp(path), _defs())


@st.cache_data(show_spinner=False, max_entries=64)
def _benchmark_table(db: str, at: Stamp, kpi_id: str, area_code: str, year: int, polarity: str):
    from kpi.engine.benchmark import BenchmarkError, benchmark

    try:
        return read(benchmark, kpi_id, area_code, year, polarity, db=db), None
    except BenchmarkError as exc:
        return None, str(exc)


def benchmark_table(path: Path, kpi_id: str, area_code: str, year: int, polarity: str):
    """(the benchmark table for a year, None) or (None, why not)."""
    return _benchmark_table(str(path), stamp(path), kpi_id, area_code, year, polarity)


@st.cache_data(show_spinner=False, max_entries=8)
def _reconciliation(db: str, at: Stamp, defs: FileKey, area_code: str):
    from kpi.engine.benchmark import BenchmarkError, resolve_area
    from kpi.engine.reconcile import ReconcileError, reconcile

    cat = _catalogue(defs)
    try:
        return read(lambda con: reconcile(con, cat, resolve_area(con, area_code)), db=db), None
    except (ReconcileError, BenchmarkError) as exc:
        return None, str(exc)


def reconciliation(path: Path, area_code: str):
    """(the reconciliation table, None) or (None, why not)."""
    return _reconciliation(str(path), stamp(path), _defs(), area_code)


# --- the audit log and the SQL console (their connections are opened in kpi/access) -------------------------------

def audit_path() -> Path:
    """The audit log's file, beside the database."""
    return audit_log.audit_path(db_path())


def record_audit(**event) -> str | None:
    """Write an event to the audit log (kpi/access/audit.py); the failure's first line when it could not be written."""
    try:
        audit_log.record(audit_path(), **event)
    except (OSError, duckdb.Error) as exc:
        return str(exc).splitlines()[0]
    return None


def audit_events(limit: int, event: str | None = None) -> pd.DataFrame:
    """The latest ``limit`` audit events (of one kind, or all), newest first."""
    return audit_log.read_log(audit_path(), limit=limit, event=event)


def sql_tables() -> pd.DataFrame:
    """The database's tables and columns, for the SQL console."""
    return sql_sandbox.tables(db_path())


def run_sql(sql: str) -> sql_sandbox.SqlResult:
    """One query in the SQL console's sandbox (raises sql_sandbox.SqlRefused when it is refused)."""
    return sql_sandbox.run_query(db_path(), sql)


# --- meeting notes and what changed since the last meeting (kpi/notes.py: their own file beside the database) -----

def can_write_notes(role: str) -> bool:
    """Whether ``role`` writes meeting notes (access.yaml ``write_notes``: leadership and analysts); others read."""
    return roles.can_write_notes(role, access_config().roles)


def meeting_notes(area: str, kpi_id: str | None = None, period: str | None = None) -> pd.DataFrame:
    """The current version of the notes of an area (a KPI and month, each optional); never cached: a write shows
    on the next run."""
    from kpi import notes

    return notes.list_notes(db_path(), kpi_id, period, area)


def write_note(kind: str, *, area: str, kpi_id: str, period: str, text: str, author: str, role: str, page: str,
               owner: str | None = None, due: date | None = None) -> str | None:
    """Write a narrative (its next version) or a new action; audited by kpi/notes.py. None when written, else the
    one-line reason it was refused or could not be written."""
    from kpi import notes

    try:
        if kind == notes.NARRATIVE:
            notes.add_narrative(db_path(), area_code=area, kpi_id=kpi_id, period=period, text=text, author=author,
                                role=role, config=access_config().roles, page=page)
        else:
            if not (owner or "").strip() or due is None:
                return "an action needs an owner and a due date"
            notes.add_action(db_path(), area_code=area, kpi_id=kpi_id, period=period, text=text, owner=owner,
                             due=due, author=author, role=role, config=access_config().roles, page=page)
    except notes.NoteRefused as exc:
        return str(exc)
    except (OSError, duckdb.Error) as exc:
        return f"the note could not be written: {str(exc).splitlines()[0]}"
    return None


def set_action_status(note_id: str, status: str, *, author: str, role: str, page: str) -> str | None:
    """Mark an action done (or open again); None when written, else the one-line reason."""
    from kpi import notes

    try:
        notes.update_action(db_path(), note_id, author=author, role=role, status=status,
                            config=access_config().roles, page=page)
    except notes.NoteRefused as exc:
        return str(exc)
    except (OSError, duckdb.Error) as exc:
        return f"the action could not be updated: {str(exc).splitlines()[0]}"
    return None


def since_last_meeting(now: pd.DataFrame, area: str, role: str, period: str, since: str,
                       on: date | None = None) -> pd.DataFrame:
    """kpi.views.changes.changes for ``period`` (``now``: the series this run shows) against the meeting of
    ``since`` as it stood then (the role's series with only the extracts dated on or before the last day of that
    month), with the area's open actions from the notes file; the area judged against its own plan."""
    from kpi.views.changes import changes, meeting_as_of

    then = series(db_path(), area, role, meeting_as_of(since).isoformat())
    return changes(now, then, catalogue(), period, since, meeting_notes(area), on, plan_book())
