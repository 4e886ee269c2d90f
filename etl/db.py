"""The DuckDB file: where it is, and opening it with the schema in place."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from etl.sql_text import literal

DEFAULT_DB = Path("data/app.duckdb")
# schema.sql, then one file per source family; the audit log and the meeting notes have their own files
# (kpi/access/audit.py, kpi/notes.py), not this database.
AUDIT_SCHEMA = Path(__file__).parent / "schema_audit.sql"
NOTES_SCHEMA = Path(__file__).parent / "schema_notes.sql"
SCHEMA_FILES = [p for p in sorted(Path(__file__).parent.glob("schema*.sql")) if p not in (AUDIT_SCHEMA, NOTES_SCHEMA)]


# A load keeps its working tables within this much memory and spills the rest to ``<database>.tmp`` (DuckDB's
# default of 80% of RAM let an england-scale load grow to several GB).
LOAD_MEMORY_LIMIT = os.environ.get("APP_LOAD_MEMORY_LIMIT", "1GB")

# A load writes its tables in row groups of this many rows, not DuckDB's default 122,880. DuckDB writes the row
# groups of an insert that fills at least one straight to the file, compressed as the insert runs; a smaller insert
# it keeps in memory and compresses at the commit, one table after another on one core. A council's tables (30,000
# to 120,000 rows for 30,000 to 100,000 people) were all compressed at the commit: 0.41 s of a 1.6 s load at 52,303
# people, 0.69 s of 3 s at 100,443. At this size they are compressed during their inserts, and those loads take
# 1.35 s and 2.2 s. The file grows: 10 to 14 MB at 52,303 people, 9% at england scale (435 to 475 MB); 65,536 grew
# it less but left the 52,303-person tables to the commit. See docs/performance.md (5 December 2026, 10:26–11:15 UTC).
LOAD_ROW_GROUP_SIZE = 32_768
WRITE_ALIAS = "app"  # the database's name on a writing connection (readers open the file under its own stem)


def default_db_path() -> Path:
    return Path(os.environ.get("APP_DB", DEFAULT_DB))


class OutdatedDatabase(duckdb.Error):
    """The file was built by an earlier version whose tables lack a column this version needs."""


def check_current(con: duckdb.DuckDBPyConnection, path: Path | str, writing: bool = False) -> None:
    """Raise OutdatedDatabase when the case tables predate the area column (records of one area only, untagged),
    or, for reading, predate the review history (a load, ``writing``, adds it from the reviews the file holds)."""
    # DuckDB's own catalogue functions, both questions in one query (every page's connection asks them).
    old, history = con.execute("""
        SELECT count(*) FILTER (WHERE table_name = 'request') > 0 AND NOT EXISTS (
                   SELECT 1 FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main'
                     AND table_name = 'request' AND column_name = 'area_code'),
               count(*) FILTER (WHERE table_name = 'active_plan')
                   > count(*) FILTER (WHERE table_name = 'review_history')
        FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'
        """).fetchone()
    history = history and not writing
    if history:
        raise OutdatedDatabase(f"{path} was built by an earlier version that kept no review history: load an extract "
                               "into it again with `python -m etl load` (which adds it), or rebuild it (for the "
                               "demo: delete the file and run make demo)")
    if old:
        raise OutdatedDatabase(f"{path} was built by an earlier version (its records carry no local area): build a "
                               "new database and load the extracts into it again (for the demo: delete the file "
                               "and run make demo)")


def connect(db_path: Path | str) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the database for writing, with every table of the schema present, its new data
    written in row groups of :data:`LOAD_ROW_GROUP_SIZE` rows."""
    path = Path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The row group size is an option of ATTACH (not of connect), so the file is attached to an in-memory
    # connection and made the default database; working files spill beside it, as they do for connect(path).
    # TYPE DUCKDB: a file of another kind (SQLite, say) is refused as not a DuckDB file, not handed to an extension.
    con = duckdb.connect(config={"temp_directory": f"{path}.tmp"})
    try:
        con.execute(f"ATTACH {literal(str(path))} AS {WRITE_ALIAS} (TYPE DUCKDB, ROW_GROUP_SIZE {LOAD_ROW_GROUP_SIZE})")
        con.execute(f"USE {WRITE_ALIAS}")
        con.execute("SET enable_progress_bar = false")  # the CLI draws its own bar (rich, on a terminal only)
        check_current(con, path, writing=True)
        # One transaction for every CREATE and ALTER: each statement on its own would be a commit (a write and
        # a sync) of its own, which cost a new database's first load more than its smaller files took to load.
        con.execute("BEGIN TRANSACTION")
        for schema in SCHEMA_FILES:
            con.execute(schema.read_text())
        con.execute("COMMIT")
    except BaseException:
        con.close()
        raise
    return con


def limit_memory(con: duckdb.DuckDBPyConnection, limit: str = LOAD_MEMORY_LIMIT) -> None:
    """Cap DuckDB's memory for a load (it spills to its temp directory beyond it); ``RESET memory_limit`` undoes."""
    con.execute(f"SET memory_limit = {literal(limit)}")


def checkpoint_at_commit(con: duckdb.DuckDBPyConnection) -> None:
    """Make the next commit write its changes straight into the database file (a checkpoint) rather than to the
    write-ahead log first and into the file again when the connection closes: a load's data is written once.
    Atomic either way (the commit is complete or absent); ``RESET checkpoint_threshold`` undoes."""
    con.execute("SET checkpoint_threshold = '0B'")
