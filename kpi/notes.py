"""Meeting notes: per local area, KPI and month, a narrative and actions (owner, due date, open or done), with who
wrote each and when.

Where: the ``note`` table (``etl/schema_notes.sql``) of a small DuckDB file beside the main database,
``data/app.notes.duckdb`` for ``data/app.duckdb`` (or the file named by ``APP_NOTES_DB``), written like the audit log
(kpi/access/side_db.py): a load builds a copy of the main database and swaps it in, so nothing written there
would survive it, and the dashboard opens it read-only. Edits keep history: each is a new row with the next version
of the same note, and nothing is ever deleted (a note is withdrawn at most). Every write is audited (event
``note``). Text is capped in length and refused when it looks like it holds a child's identifier; leadership and
analysts write, monitors read (``write_notes`` in access.yaml).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from etl.db import NOTES_SCHEMA
from etl.identifiers import WRITTEN_TEXT_SHAPES
from kpi.access import audit, roles, side_db

ENV_VAR = "APP_NOTES_DB"
COLUMNS = ["note_id", "version", "kind", "area_code", "kpi_id", "period", "text", "owner", "due", "status",
           "author", "role", "written_at"]
LISTED = [*COLUMNS, "created_by", "created_at"]  # the current version of each note, with who first wrote it
NARRATIVE, ACTION = "narrative", "action"
CURRENT, OPEN, DONE, WITHDRAWN = "current", "open", "done", "withdrawn"  # narrative: current; action: open or done
ACTION_STATUSES = (OPEN, DONE, WITHDRAWN)
MAX_TEXT = 2000  # characters: a paragraph or two for a meeting, not a report
MAX_NAME = 200
_RETRY_S = 1.0
_DECIDE_S = 30.0  # seconds a writer waits for others to finish saving their notes
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class NoteRefused(ValueError):
    """A note that cannot be written as given; the message is one line saying why."""


def notes_path(db_path: Path | str) -> Path:
    """The notes file for a database: ``APP_NOTES_DB``, else ``<name>.notes.duckdb`` beside it."""
    return side_db.beside(db_path, "notes", ENV_VAR)


# --- checks (pure) ---------------------------------------------------------------------------------------------

def check_text(text: str | None, what: str = "the note", limit: int = MAX_TEXT) -> str:
    """The text, stripped; NoteRefused when empty, longer than ``limit`` or shaped like a child's identifier."""
    text = (text or "").strip()
    if not text:
        raise NoteRefused(f"{what} is empty")
    if len(text) > limit:
        raise NoteRefused(f"{what} has {len(text):,} characters; at most {limit:,}")
    for shape, pattern in WRITTEN_TEXT_SHAPES.items():
        if re.search(pattern, text):
            raise NoteRefused(f"{what} looks like it holds a child's identifier ({shape}): write about the service, "
                              "never name or identify a child")
    return text


def check_period(period: str) -> str:
    if not isinstance(period, str) or not _PERIOD.fullmatch(period):
        raise NoteRefused(f"{period!r} is not a month written YYYY-MM")
    return period


def check_writer(role: str, config: roles.RolesConfig | None = None) -> None:
    """NoteRefused unless the role writes notes (access.yaml ``write_notes``)."""
    config = config or roles.load().roles
    if not roles.can_write_notes(role, config):
        raise NoteRefused(f"the {role} role reads meeting notes but does not write them "
                          f"(writers: {', '.join(config.write_notes) or 'none'})")


# --- rows and versions (pure) ----------------------------------------------------------------------------------

def _stamp(at: datetime | None) -> datetime:
    return (at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)


def new_row(kind: str, area_code: str, kpi_id: str, period: str, text: str, author: str, role: str,
            owner: str | None = None, due: date | None = None, at: datetime | None = None,
            taken: set[str] = frozenset()) -> dict:
    """Version 1 of a narrative or an action, checked (an id not in ``taken``)."""
    if kind == ACTION and (owner is None or due is None):
        raise NoteRefused("an action needs an owner and a due date")
    note_id = uuid.uuid4().hex[:8]
    while note_id in taken:
        note_id = uuid.uuid4().hex[:8]
    return {
        "note_id": note_id, "version": 1, "kind": kind, "area_code": check_text(area_code, "the area", 20),
        "kpi_id": check_text(kpi_id, "the KPI id", MAX_NAME), "period": check_period(period),
        "text": check_text(text, f"the {kind}"),
        "owner": check_text(owner, "the owner", MAX_NAME) if kind == ACTION else None,
        "due": due if kind == ACTION else None, "status": OPEN if kind == ACTION else CURRENT,
        "author": check_text(author, "the author", MAX_NAME), "role": role, "written_at": _stamp(at),
    }


def next_version(previous: dict, author: str, role: str, at: datetime | None = None, **changes) -> dict:
    """The next version of a note: ``changes`` (text, owner, due, status) over the previous version's values."""
    unknown = set(changes) - {"text", "owner", "due", "status"}
    if unknown:
        raise ValueError(f"a note has no field {', '.join(sorted(unknown))}")
    row = {**previous, **{k: v for k, v in changes.items() if v is not None}}
    if "text" in changes and changes["text"] is not None:
        row["text"] = check_text(changes["text"], f"the {row['kind']}")
    if row["kind"] == ACTION and changes.get("owner") is not None:
        row["owner"] = check_text(changes["owner"], "the owner", MAX_NAME)
    allowed = ACTION_STATUSES if row["kind"] == ACTION else (CURRENT, WITHDRAWN)
    if row["status"] not in allowed:
        raise NoteRefused(f"a {row['kind']} is {' or '.join(allowed)}, not {row['status']!r}")
    if row["kind"] == NARRATIVE and (changes.get("due") is not None or changes.get("owner") is not None):
        raise NoteRefused("a narrative has no owner or due date")
    return {**row, "version": int(previous["version"]) + 1, "author": check_text(author, "the author", MAX_NAME),
            "role": role, "written_at": _stamp(at)}


def current(history: pd.DataFrame) -> pd.DataFrame:
    """The latest version of each note, with who first wrote it and when (``created_by``, ``created_at``), in
    area, KPI, month order, each month's narrative before its actions."""
    if history.empty:
        return pd.DataFrame(columns=LISTED)
    ordered = history.sort_values(["note_id", "version", "written_at"], kind="stable")
    first = ordered.groupby("note_id", sort=False).first()
    out = ordered.groupby("note_id", sort=False).tail(1).copy()
    out["created_by"] = out["note_id"].map(first["author"])
    out["created_at"] = out["note_id"].map(first["written_at"])
    return out.sort_values(["area_code", "kpi_id", "period", "kind", "created_at"],
                           key=lambda c: c.map({NARRATIVE: 0, ACTION: 1}) if c.name == "kind" else c,
                           kind="stable")[LISTED].reset_index(drop=True)


def select(notes: pd.DataFrame, kpi_id: str | None = None, period: str | None = None, area_code: str | None = None,
           include_withdrawn: bool = False) -> pd.DataFrame:
    """The notes of a KPI, month and area (each optional); withdrawn ones only when asked for."""
    keep = pd.Series(True, index=notes.index)
    for column, value in (("kpi_id", kpi_id), ("period", period), ("area_code", area_code)):
        if value is not None:
            keep &= notes[column] == value
    if not include_withdrawn:
        keep &= notes["status"] != WITHDRAWN
    return notes[keep].reset_index(drop=True)


def due_actions(notes: pd.DataFrame, on: date, within_days: int = 0) -> pd.DataFrame:
    """Open actions due on or before ``on`` (plus ``within_days``), soonest first, with ``overdue`` (due before
    ``on``)."""
    by = on + timedelta(days=within_days)
    actions = notes[(notes["kind"] == ACTION) & (notes["status"] == OPEN)]
    out = actions[pd.Series([d is not None and d <= by for d in actions["due"]], index=actions.index, dtype=bool)]
    out = out.assign(overdue=pd.Series([d < on for d in out["due"]], index=out.index, dtype=bool))
    return out.sort_values(["due", "area_code", "kpi_id"], kind="stable").reset_index(drop=True)


# --- the notes file ----------------------------------------------------------------------------------------------

def _as_dates(values) -> list[date | None]:
    return [None if v is None or pd.isna(v) else pd.Timestamp(v).date() for v in values]


def history(db_path: Path | str) -> pd.DataFrame:
    """Every version of every note (the file and any kept aside while another process held it)."""
    path = notes_path(db_path)
    stored = side_db.read(path, f"SELECT {', '.join(COLUMNS)} FROM note", retry_s=_RETRY_S)
    frames = [f for f in (stored, side_db.read_pending(path)) if len(f)]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat([f[COLUMNS] for f in frames], ignore_index=True)
    out["version"] = out["version"].astype(int)
    out["due"] = pd.Series(_as_dates(out["due"]), index=out.index, dtype=object)
    out["written_at"] = pd.to_datetime(out["written_at"])
    out["owner"] = out["owner"].astype(object).where(out["owner"].notna(), None)
    return out


def list_notes(db_path: Path | str, kpi_id: str | None = None, period: str | None = None,
               area_code: str | None = None, include_withdrawn: bool = False) -> pd.DataFrame:
    """The current version of the notes of a KPI, month and area (each optional)."""
    return select(current(history(db_path)), kpi_id, period, area_code, include_withdrawn)


def actions_due(db_path: Path | str, on: date, within_days: int = 0, area_code: str | None = None,
                kpi_id: str | None = None) -> pd.DataFrame:
    """Open actions due or overdue at ``on`` (of an area and KPI, each optional)."""
    return due_actions(list_notes(db_path, kpi_id, area_code=area_code), on, within_days)


@contextmanager
def _deciding(db_path: Path | str) -> Iterator[None]:
    """One writer at a time reads the notes, decides the new row and writes it, across sessions and processes:
    otherwise two people saving the first narrative of a month at once would make two narratives, and two edits
    of one note the same version twice."""
    path = notes_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(path.with_name(path.name + ".lock"), timeout=_DECIDE_S):
            yield
    except Timeout:
        raise NoteRefused("another note is being saved and has not finished; try again in a moment") from None


def _insert(path: Path, row: dict) -> None:
    side_db.insert(path, NOTES_SCHEMA, "note", COLUMNS, row)


def _write(db_path: Path | str, row: dict, change: str, page: str | None) -> dict:
    """Append one version to the notes file, then audit it (ids, never the text)."""
    side_db.append(notes_path(db_path), row, _insert, _RETRY_S)
    audit.record(audit.audit_path(db_path), who=row["author"], role=row["role"], event="note", page=page,
                 detail={"change": change, "note_id": row["note_id"], "version": row["version"],
                         "kind": row["kind"], "area": row["area_code"], "kpi": row["kpi_id"],
                         "period": row["period"], "status": row["status"]})
    return row


def add_narrative(db_path: Path | str, *, area_code: str, kpi_id: str, period: str, text: str, author: str,
                  role: str, config: roles.RolesConfig | None = None, at: datetime | None = None,
                  page: str | None = None) -> dict:
    """Write the narrative of a KPI, month and area: a new note, or the next version of the one there is."""
    check_writer(role, config)
    with _deciding(db_path):
        notes = current(history(db_path))
        there = notes[(notes["kind"] == NARRATIVE) & (notes["area_code"] == area_code)
                      & (notes["kpi_id"] == kpi_id) & (notes["period"] == period)]
        if len(there):
            row = next_version(there.iloc[-1][COLUMNS].to_dict(), author, role, at, text=text, status=CURRENT)
            return _write(db_path, row, "edit_narrative", page)
        row = new_row(NARRATIVE, area_code, kpi_id, period, text, author, role, at=at, taken=set(notes["note_id"]))
        return _write(db_path, row, "add_narrative", page)


def add_action(db_path: Path | str, *, area_code: str, kpi_id: str, period: str, text: str, owner: str, due: date,
               author: str, role: str, config: roles.RolesConfig | None = None, at: datetime | None = None,
               page: str | None = None) -> dict:
    """Write a new action (open) for a KPI, month and area."""
    check_writer(role, config)
    with _deciding(db_path):
        taken = set(history(db_path)["note_id"])
        row = new_row(ACTION, area_code, kpi_id, period, text, author, role, owner, due, at, taken)
        return _write(db_path, row, "add_action", page)


def update_note(db_path: Path | str, note_id: str, *, author: str, role: str,
                config: roles.RolesConfig | None = None, at: datetime | None = None, page: str | None = None,
                **changes) -> dict:
    """Write the next version of a note with ``changes`` (status, due, text, owner); NoteRefused for an unknown id."""
    check_writer(role, config)
    with _deciding(db_path):
        notes = current(history(db_path))
        found = notes[notes["note_id"] == note_id]
        if found.empty:
            raise NoteRefused(f"no note {note_id!r} (see `python -m kpi note list`)")
        row = next_version(found.iloc[0][COLUMNS].to_dict(), author, role, at, **changes)
        return _write(db_path, row, f"update_{row['kind']}", page)


def update_action(db_path: Path | str, note_id: str, *, author: str, role: str, status: str | None = None,
                  due: date | None = None, config: roles.RolesConfig | None = None, at: datetime | None = None,
                  page: str | None = None) -> dict:
    """Mark an action open, done or withdrawn, or move its due date (a new version)."""
    found = current(history(db_path))
    if note_id in set(found.loc[found["kind"] == NARRATIVE, "note_id"]):
        raise NoteRefused(f"{note_id} is a narrative, not an action")
    return update_note(db_path, note_id, author=author, role=role, config=config, at=at, page=page,
                       status=status, due=due)
