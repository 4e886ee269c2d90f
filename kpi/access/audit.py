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
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from etl.db import AUDIT_SCHEMA

ENV_VAR = "APP_AUDIT_DB"
# A SQL query is recorded twice: outcome "started" before it runs (left even if the run were lost), then its
# outcome. access_denied: a sign-in with no role, or a link to a page the role may not open.
EVENTS = ("sign_in", "access_denied", "page_view", "download", "sql_query")
COLUMNS = ["occurred_at", "who", "role", "event", "page", "detail", "outcome", "session_id"]
_LOCK = threading.Lock()
_RETRY_S = 1.0


def audit_path(db_path: Path | str) -> Path:
    """The audit file for a database: ``APP_AUDIT_DB``, else ``<name>.audit.duckdb`` beside it."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    db = Path(db_path)
    return db.with_name(f"{db.stem}.audit.duckdb")


def pending_path(audit_db: Path) -> Path:
    return audit_db.with_name(audit_db.name + ".pending.jsonl")


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
    row = event_row(**event)
    path = Path(audit_db)
    deadline = time.monotonic() + _RETRY_S
    with _LOCK:
        while True:
            try:
                _insert(path, row)
                return
            except duckdb.IOException:  # held by another process: retry briefly, then keep it aside
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        fd = os.open(pending_path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps({**row, "occurred_at": row["occurred_at"].isoformat()}) + "\n")


def _owner_only(path: Path) -> None:
    """Owner-only permissions on an audit file (and its write-ahead log): who looked at what is not for others."""
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            if p.exists() and p.stat().st_mode & 0o077:
                os.chmod(p, 0o600)
        except OSError:
            pass


def _insert(path: Path, row: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    _owner_only(path)  # before any event is written into a file just made
    try:
        con.execute(AUDIT_SCHEMA.read_text())
        con.execute(f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                    [row[c] for c in COLUMNS])
    finally:
        con.close()


def read_log(audit_db: Path | str, limit: int = 1000, event: str | None = None) -> pd.DataFrame:
    """The most recent events, newest first (``limit`` rows; optionally one event type)."""
    path = Path(audit_db)
    frames = []
    if path.exists():
        where, params = ("WHERE event = ?", [event, limit]) if event else ("", [limit])
        with _LOCK:  # the writer in this process closes the file after each event
            con = duckdb.connect(str(path), read_only=True)
            try:
                frames.append(con.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_log {where} "
                                          "ORDER BY occurred_at DESC LIMIT ?", params).df())
            finally:
                con.close()
    pending = pending_path(path)
    if pending.exists():
        extra = pd.read_json(pending, lines=True, dtype=False)
        if len(extra):
            extra["occurred_at"] = pd.to_datetime(extra["occurred_at"])
            frames.append(extra[extra["event"] == event] if event else extra)
    frames = [f[COLUMNS] for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values("occurred_at", ascending=False).head(limit).reset_index(drop=True)
