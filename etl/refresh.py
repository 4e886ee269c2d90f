"""Load into a copy of the database and swap it in atomically, so an open dashboard never sees a load half done.

Why: DuckDB allows one writer process, and a reader that opens the file while a load writes it either fails on
the lock or (between transactions) could see a state no extract ever had. Instead, ``refresh_load`` copies the
database (and its write-ahead log, if any) to a temporary file beside it, runs the ordinary validated load
(:func:`etl.load.load_paths`, one transaction) on the copy, and after the commit renames the copy over the
original with ``os.replace``: atomic on one file system. A reader opens either the old file or the new one,
whole; one already open keeps reading the old file until it closes. A rejected or failed load deletes the copy
and leaves the database untouched. A lock file beside the database keeps two loads from racing (the second one
stops with a one-line message; the lock is ``filelock``'s, so it holds on Windows as on Linux), and a load that
changes nothing (every file already loaded) swaps nothing, so open sessions are not told of a refresh that did not
happen.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from etl.load import AreaPaths, load_areas
from etl.report import LoadReport


class LoadInProgress(Exception):
    """Another load into the same database is running."""


def wal_of(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".lock")


@contextmanager
def exclusive(db: Path) -> Iterator[None]:
    """Hold the database's load lock for the block; LoadInProgress at once if another process holds it."""
    db.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path(db), blocking=False)
    try:
        lock.acquire()
    except Timeout:
        raise LoadInProgress(f"another load into {db} is running; try again when it has finished") from None
    try:
        yield
    finally:
        lock.release()


def _work_prefix(db: Path) -> str:
    """The name of a load's working copy of ``db`` before its process id: ``.<name>.loading-<pid>``."""
    return f".{db.name}.loading-"


def named_as_database(message: str, db: Path) -> str:
    """``message`` with the load's working copy of ``db`` (an internal name, :func:`_work_prefix`) called by the
    database's own path, which is the one the user gave."""
    return re.sub(re.escape(str(db.with_name(_work_prefix(db)))) + r"\d+", lambda _: str(db), message)


def _discard(path: Path) -> None:
    for p in (path, wal_of(path)):
        p.unlink(missing_ok=True)


def refresh_load(paths: Iterable[Path | str], db_path: Path | str,
                 on_file: Callable[[Path], None] | None = None, area: str | None = None,
                 groups: Iterable[AreaPaths] | None = None) -> LoadReport:
    """Load ``paths`` (for ``area``) like :func:`etl.load.load_paths`, or several areas' ``groups`` like
    :func:`etl.load.load_areas`, but into a copy that replaces ``db_path`` only after a successful commit.
    Raises what load_paths raises (LoadRejected, duckdb errors) with the database unchanged, or LoadInProgress."""
    db = Path(db_path)
    work = db.with_name(f"{_work_prefix(db)}{os.getpid()}")
    with exclusive(db):
        for stale in db.parent.glob(f"{_work_prefix(db)}*"):  # left by a load that was killed: under the
            if stale.is_dir():                                  # lock, no other load can be using one. The
                shutil.rmtree(stale, ignore_errors=True)        # folder is DuckDB's spill (working rows)
            else:
                stale.unlink(missing_ok=True)
        _discard(work)
        try:
            if db.exists():
                shutil.copyfile(db, work)
                if wal_of(db).exists():  # a write-ahead log not yet checkpointed belongs to the copy too
                    shutil.copyfile(wal_of(db), wal_of(work))
            # load_areas closes its connection: the copy is checkpointed
            report = load_areas(list(groups) if groups is not None else [(area, paths)], work, on_file=on_file)
            if db.exists() and all(f.status == "unchanged" for f in report.files):
                _discard(work)
                return report
            if wal_of(work).exists():  # DuckDB checkpoints on close; make sure before the log is left behind
                duckdb.connect(str(work)).execute("CHECKPOINT").close()
            if wal_of(work).exists():
                raise RuntimeError(f"the new database {work} could not be checkpointed; {db} is unchanged")
            os.replace(work, db)
            wal_of(db).unlink(missing_ok=True)  # a log left by a crashed writer belongs to the old file
        except BaseException:
            _discard(work)
            raise
    return report
