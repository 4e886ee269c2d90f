"""Small DuckDB files beside the main database, written one row at a time: the audit log and the meeting notes.

Why beside it: the dashboard opens the main database read-only, and a load builds a copy of it and renames the
copy over it (etl/refresh.py), so anything written into the main file would be lost or refused. DuckDB allows one
writing process per file: each write opens the side file, appends one row and closes it, under a lock, so many
browser sessions of one server share it. If another process holds the file, the write is retried briefly, then
appended to ``<file>.pending.jsonl`` and read back with the rest: a row is never dropped. A read while another
process holds the file reads a copy of it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

LOCK = threading.Lock()


def beside(db_path: Path | str, suffix: str, env_var: str) -> Path:
    """The side file of a database: the file named by ``env_var``, else ``<name>.<suffix>.duckdb`` beside it."""
    if os.environ.get(env_var):
        return Path(os.environ[env_var])
    db = Path(db_path)
    return db.with_name(f"{db.stem}.{suffix}.duckdb")


def pending_path(side_db: Path) -> Path:
    return side_db.with_name(side_db.name + ".pending.jsonl")


def owner_only(path: Path) -> None:
    """Owner-only permissions on a side file (and its write-ahead log): not for other users of the machine."""
    for p in (path, _wal(path)):
        try:
            if p.exists() and p.stat().st_mode & 0o077:
                os.chmod(p, 0o600)
        except OSError:
            pass


def insert(path: Path, schema: Path, table: str, columns: list[str], row: dict,
           prepare: Callable[[duckdb.DuckDBPyConnection], None] | None = None) -> None:
    """Open ``path`` (creating it with ``schema``), let ``prepare`` bring an older file up to date, insert ``row``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    owner_only(path)  # before any row is written into a file just made
    try:
        con.execute(schema.read_text())
        if prepare is not None:
            prepare(con)
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    [row[c] for c in columns])
    finally:
        con.close()


def append(path: Path | str, row: dict, write: Callable[[Path, dict], None], retry_s: float) -> None:
    """Write ``row`` with ``write(path, row)`` under the lock; while another process holds the file retry for
    ``retry_s`` seconds, then keep the row aside in the pending file."""
    path = Path(path)
    deadline = time.monotonic() + retry_s
    with LOCK:
        while True:
            try:
                write(path, row)
                return
            except duckdb.IOException:  # held by another process: retry briefly, then keep it aside
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        fd = os.open(pending_path(path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(json.dumps({k: v.isoformat() if isinstance(v, date | datetime) else v
                                for k, v in row.items()}) + "\n")


def read(path: Path | str, query: str, params: list | None = None, retry_s: float = 1.0) -> pd.DataFrame:
    """``query`` on the side file, read-only (an empty frame when the file does not exist yet). While another
    process holds the file, retry for ``retry_s`` seconds, then read a copy of it (with its write-ahead log)."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame()
    deadline = time.monotonic() + retry_s
    with LOCK:  # the writer in this process closes the file after each row
        while True:
            try:
                return _query(path, query, params)
            except duckdb.IOException:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        with tempfile.TemporaryDirectory() as folder:
            copy = Path(folder) / path.name
            for source, target in ((path, copy), (_wal(path), _wal(copy))):
                if source.exists():
                    shutil.copyfile(source, target)
            return _query(copy, query, params)


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _query(path: Path, query: str, params: list | None) -> pd.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query, params or []).df()
    finally:
        con.close()


def read_pending(path: Path | str) -> pd.DataFrame:
    """The rows kept aside while another process held the file (values as JSON gave them back)."""
    pending = pending_path(Path(path))
    if not pending.exists() or pending.stat().st_size == 0:
        return pd.DataFrame()
    return pd.read_json(pending, lines=True, dtype=False)
