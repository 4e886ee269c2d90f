"""The audit log: sign-ins, page views with their parameters, downloads and SQL queries (who, when, what).

Where: the ``audit_log`` table (``etl/schema_audit.sql``) of a small DuckDB file beside the main database,
``data/app.audit.duckdb`` for ``data/app.duckdb`` (or the file named by ``APP_AUDIT_DB``). Why not the main
database: the dashboard opens it read-only and a load (another process) may be writing it, and DuckDB allows one
writing process per file. Each event opens the audit file, appends one row and closes it, under a lock, so many
browser sessions of one server share it. If another process holds the audit file (a second server on the same
data), the event is appended to ``<audit file>.pending.jsonl`` instead and read back with the rest: an event is
never dropped. Nothing here reads the main database, so no child's data can reach the log except what a user typed
into a SQL query (pseudonymous keys at most).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from etl.db import AUDIT_SCHEMA
from kpi.access import side_db

ENV_VAR = "APP_AUDIT_DB"
# A SQL query is recorded twice: outcome "started" before it runs (left even if the run were lost), then its
# outcome. access_denied: a sign-in with no role, or a link to a page the role may not open. note: a meeting note
# written or changed (kpi/notes.py).
EVENTS = ("sign_in", "access_denied", "page_view", "download", "sql_query", "note")
COLUMNS = ["occurred_at", "who", "role", "event", "page", "detail", "outcome", "session_id"]
_RETRY_S = 1.0
pending_path = side_db.pending_path


def audit_path(db_path: Path | str) -> Path:
    """The audit file for a database: ``APP_AUDIT_DB``, else ``<name>.audit.duckdb`` beside it."""
    return side_db.beside(db_path, "audit", ENV_VAR)


def event_row(who: str, role: str, event: str, page: str | None = None, detail: dict | None = None,
              outcome: str = "ok", session_id: str | None = None, at: datetime | None = None) -> dict:
    """One audit row (pure): checks the event type; the detail becomes compact JSON."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    if not who:
        raise ValueError("an audit event needs a who")
    stamp = (at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    if detail:
        detail = {k: _cut(v) for k, v in detail.items()}
    return {"occurred_at": stamp, "who": _cut(who, 320), "role": role, "event": event, "page": _cut(page, 200),
            "detail": json.dumps(detail, sort_keys=True, default=str) if detail else None,
            "outcome": _cut(outcome), "session_id": session_id}


MAX_VALUE_CHARS = 10_000  # a longer value (a pasted 60 KB URL, a huge query) is cut, its length noted


def _cut(value, limit: int = MAX_VALUE_CHARS):
    if not isinstance(value, str) or len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value):,} characters)"


def record(audit_db: Path | str, **event) -> None:
    """Append one event (the arguments of :func:`event_row`) to the audit file."""
    side_db.append(audit_db, event_row(**event), _insert, _RETRY_S)


def _insert(path: Path, row: dict) -> None:
    side_db.insert(path, AUDIT_SCHEMA, "audit_log", COLUMNS, row, prepare=_allow_every_event)


def _allow_every_event(con: duckdb.DuckDBPyConnection) -> None:
    """A file made by an earlier version has a CHECK naming fewer events: rebuild its table with today's schema
    (DuckDB cannot alter a CHECK), keeping every row, so a new event type is never refused."""
    checks = [r[0] for r in con.execute("SELECT expression FROM duckdb_constraints() WHERE table_name = 'audit_log' "
                                        "AND constraint_type = 'CHECK'").fetchall()]
    if all(f"'{e}'" in text for text in checks for e in EVENTS):
        return
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("ALTER TABLE audit_log RENAME TO audit_log_before_upgrade")
        con.execute(AUDIT_SCHEMA.read_text())
        con.execute(f"INSERT INTO audit_log ({', '.join(COLUMNS)}) SELECT {', '.join(COLUMNS)} "
                    "FROM audit_log_before_upgrade")
        con.execute("DROP TABLE audit_log_before_upgrade")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def read_log(audit_db: Path | str, limit: int = 1000, event: str | None = None) -> pd.DataFrame:
    """The most recent events, newest first (``limit`` rows; optionally one event type)."""
    where, params = ("WHERE event = ?", [event, limit]) if event else ("", [limit])
    frames = [side_db.read(audit_db, f"SELECT {', '.join(COLUMNS)} FROM audit_log {where} "
                                     "ORDER BY occurred_at DESC LIMIT ?", params, _RETRY_S)]
    extra = side_db.read_pending(audit_db)
    if len(extra):
        extra["occurred_at"] = pd.to_datetime(extra["occurred_at"])
        frames.append(extra[extra["event"] == event] if event else extra)
    frames = [f[COLUMNS] for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values("occurred_at", ascending=False).head(limit).reset_index(drop=True)
