"""The SQL sandbox (kpi/access/sql_sandbox.py) and ``python -m kpi sql``: what runs, what is refused, and that a refusal
leaves no trace (no file written anywhere we can see, the database byte-for-byte unchanged, no WAL)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl.db import connect
from kpi.__main__ import main as kpi_main
from kpi.access.sql_sandbox import SqlRefused, check_statement, run_query


@pytest.fixture
def sandbox_db(tmp_path):
    """A small database in its own folder, beside a file the sandbox must not be able to read."""
    folder = tmp_path / "site"
    folder.mkdir()
    db = folder / "app.duckdb"
    con = connect(db)
    con.execute("CREATE TABLE numbers AS SELECT range AS n, range % 3 AS grp FROM range(100)")
    con.execute("CHECKPOINT")
    con.close()
    (folder / "secret.csv").write_text("name,upn\nImogen,A823123400001\n")
    (folder / "notes.txt").write_text("private\n")
    return db


def _snapshot(*folders: Path) -> dict[str, str]:
    """Every file under the folders with a hash of its bytes."""
    out = {}
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            for name in files:
                p = Path(root) / name
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def no_trace(sandbox_db, tmp_path, monkeypatch):
    """Run in the temp folder; after the test, assert no file appeared or changed there (database included)."""
    monkeypatch.chdir(tmp_path)
    before = _snapshot(tmp_path)
    yield sandbox_db
    after = _snapshot(tmp_path)
    assert after == before, f"files changed: {set(after) ^ set(before) or 'contents'}"
    assert not sandbox_db.with_name(sandbox_db.name + ".wal").exists()
    con = duckdb.connect(str(sandbox_db), read_only=True)
    try:
        tables = sorted(r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall())
        assert "numbers" in tables and "t" not in tables and "stolen" not in tables
        assert con.execute("SELECT count(*), sum(n) FROM numbers").fetchone() == (100, 4950)
    finally:
        con.close()


def test_an_ordinary_select_works(no_trace):
    r = run_query(no_trace, "SELECT grp, count(*) AS rows, sum(n) AS total FROM numbers GROUP BY grp ORDER BY grp")
    assert r.frame.to_dict("records") == [
        {"grp": 0, "rows": 34, "total": 1683}, {"grp": 1, "rows": 33, "total": 1617},
        {"grp": 2, "rows": 33, "total": 1650}]
    assert not r.truncated and r.notice is None


@pytest.mark.parametrize("sql", [
    "WITH big AS (SELECT n FROM numbers WHERE n >= 90) SELECT count(*) AS c FROM big",
    "FROM numbers SELECT count(*) AS c WHERE n >= 90",
    "SELECT count(*) AS c FROM app.numbers WHERE n >= 90  -- a trailing comment",
    "select count(*) as c from numbers where n >= 90;",
])
def test_with_select_from_first_and_qualified_names_work(no_trace, sql):
    assert run_query(no_trace, sql).frame["c"].tolist() == [10]


def test_a_result_over_the_row_limit_is_truncated_with_a_notice(no_trace):
    r = run_query(no_trace, "SELECT n FROM numbers ORDER BY n DESC", row_limit=7)
    assert r.frame["n"].tolist() == [99, 98, 97, 96, 95, 94, 93]
    assert r.truncated and "first 7 rows only" in r.notice
    exact = run_query(no_trace, "SELECT n FROM numbers WHERE n < 7", row_limit=7)
    assert len(exact.frame) == 7 and not exact.truncated


REFUSED = {
    "read_csv": ("SELECT * FROM read_csv('site/secret.csv')", "cannot read or write files"),
    "read_csv_auto": ("SELECT * FROM read_csv_auto('site/secret.csv')", "cannot read or write files"),
    "bare file name": ("SELECT * FROM 'site/secret.csv'", "cannot read or write files"),
    "read_parquet": ("SELECT * FROM read_parquet('site/x.parquet')", "cannot read or write files"),
    "read_text": ("SELECT content FROM read_text('site/notes.txt')", "cannot read or write files"),
    "read_blob": ("SELECT content FROM read_blob('site/notes.txt')", "cannot read or write files"),
    "read_json": ("SELECT * FROM read_json('site/notes.txt')", "cannot read or write files"),
    "glob": ("SELECT * FROM glob('site/*')", "cannot read or write files"),
    "remote URL": ("SELECT * FROM read_csv('https://example.com/data.csv')", "cannot read or write files"),
    "remote s3": ("SELECT * FROM 's3://bucket/data.parquet'", "cannot read or write files"),
    "copy to": ("COPY numbers TO 'stolen.csv'", "COPY"),
    "copy query to": ("COPY (SELECT * FROM numbers) TO 'stolen.parquet' (FORMAT parquet)", "COPY"),
    "copy from": ("COPY numbers FROM 'site/secret.csv'", "COPY"),
    "export database": ("EXPORT DATABASE 'exported'", "EXPORT DATABASE"),
    "attach": ("ATTACH 'other.duckdb' AS other", "ATTACH"),
    "attach memory": ("ATTACH ':memory:' AS scratch", "ATTACH"),
    "detach": ("DETACH app", "DETACH"),
    "install": ("INSTALL httpfs", "INSTALL/LOAD"),
    "load": ("LOAD httpfs", "INSTALL/LOAD"),
    "set": ("SET enable_external_access = true", "SET/RESET"),
    "set lock": ("SET lock_configuration = false", "SET/RESET"),
    "reset": ("RESET memory_limit", "SET/RESET"),
    "use": ("USE memory", "SET/RESET"),
    "pragma": ("PRAGMA enable_external_access", "PRAGMA"),
    "pragma list": ("PRAGMA database_list", "PRAGMA"),
    "call": ("CALL pragma_version()", "CALL"),
    "checkpoint": ("CHECKPOINT", "CALL"),
    "create table": ("CREATE TABLE t AS SELECT 1 AS a", "CREATE"),
    "create temp": ("CREATE TEMP TABLE t AS SELECT 1 AS a", "CREATE"),
    "create view": ("CREATE VIEW t AS SELECT 1 AS a", "CREATE"),
    "create secret": ("CREATE SECRET (TYPE s3, KEY_ID 'a', SECRET 'b')", "CREATE"),
    "create macro": ("CREATE MACRO t(a) AS a", "CREATE"),
    "drop": ("DROP TABLE numbers", "DROP"),
    "alter": ("ALTER TABLE numbers ADD COLUMN x INTEGER", "ALTER"),
    "insert": ("INSERT INTO numbers VALUES (1, 1)", "INSERT"),
    "update": ("UPDATE numbers SET n = 0", "UPDATE"),
    "delete": ("DELETE FROM numbers", "DELETE"),
    "begin": ("BEGIN TRANSACTION", "transaction"),
    "vacuum": ("VACUUM", "VACUUM"),
    "several statements": ("SELECT 1; SELECT 2", "one statement at a time"),
    "select then write": ("SELECT 1; DROP TABLE numbers", "one statement at a time"),
    "select then copy": ("SELECT 1; COPY numbers TO 'stolen.csv'", "one statement at a time"),
    "query() smuggling": ("SELECT * FROM query('COPY numbers TO ''stolen.csv''')", "failed"),
    "empty": ("   ", "empty"),
    "comment only": ("-- nothing", "no statement"),
    "syntax error": ("SELEC 1", "could not be parsed"),
}


@pytest.mark.parametrize("sql,why", REFUSED.values(), ids=REFUSED.keys())
def test_refused_and_leaves_no_trace(no_trace, sql, why):
    with pytest.raises(SqlRefused) as exc:
        run_query(no_trace, sql)
    reason = str(exc.value)
    assert why in reason
    assert "\n" not in reason


def test_settings_are_locked_even_from_inside_a_select(no_trace):
    r = run_query(no_trace, "SELECT current_setting('enable_external_access') AS ext, "
                            "current_setting('lock_configuration') AS locked, current_setting('temp_directory') AS tmp")
    assert r.frame.to_dict("records") == [{"ext": False, "locked": True, "tmp": ""}]


def test_a_query_that_runs_too_long_is_stopped(no_trace):
    with pytest.raises(SqlRefused, match="longer than the 0.5-second limit"):
        run_query(no_trace, "SELECT count(*) FROM range(100000000000) a", time_limit_s=0.5)


def test_check_statement_classifies_with_duckdbs_parser():
    assert check_statement("WITH a AS (SELECT 1) SELECT * FROM a").startswith("WITH")
    for sql in ("SUMMARIZE numbers", "DESCRIBE numbers", "SHOW TABLES", "VALUES (1), (2)"):
        check_statement(sql)  # read-only inspection statements parse as SELECT
    with pytest.raises(SqlRefused, match="EXPLAIN"):
        check_statement("EXPLAIN SELECT 1")


def test_app_connection_in_the_same_process_is_unaffected(sandbox_db):
    """The sandbox is its own database instance: an open read-only app connection keeps working, unlocked."""
    app = duckdb.connect(str(sandbox_db), read_only=True)
    try:
        assert run_query(sandbox_db, "SELECT count(*) AS c FROM numbers").frame["c"].tolist() == [100]
        assert app.execute("SELECT current_setting('enable_external_access')").fetchone() == (True,)
        assert app.execute("SELECT count(*) FROM numbers").fetchone() == (100,)
    finally:
        app.close()


def test_a_missing_database_is_a_clear_refusal(sandbox_db):
    with pytest.raises(SqlRefused, match="no database at"):
        run_query(sandbox_db.with_name("missing.duckdb"), "SELECT 1")


def test_a_database_held_by_a_loading_process_is_reported_busy(sandbox_db):
    """A load in another process holds DuckDB's write lock: the sandbox says so in one line and writes nothing."""
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(sandbox_db)], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "locked"
        with pytest.raises(SqlRefused, match="being updated"):
            run_query(sandbox_db, "SELECT 1")
    finally:
        writer.kill()
        writer.wait()


WRITER = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(60)"


# --- the command line ----------------------------------------------------------------------------------------

def test_cli_prints_csv_and_exits_0(no_trace, capsys):
    assert kpi_main(["sql", "--db", str(no_trace), "--query", "SELECT grp, count(*) AS k FROM numbers "
                     "GROUP BY grp ORDER BY grp"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows == [{"grp": "0", "k": "34"}, {"grp": "1", "k": "33"}, {"grp": "2", "k": "33"}]


def test_cli_json_and_truncation_notice(no_trace, capsys):
    assert kpi_main(["sql", "--db", str(no_trace), "--query", "SELECT n FROM numbers ORDER BY n",
                     "--format", "json", "--max-rows", "2"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out) == [{"n": 0}, {"n": 1}]
    assert "first 2 rows only" in out.err


@pytest.mark.parametrize("sql", ["COPY numbers TO 'stolen.csv'", "SELECT * FROM read_text('site/notes.txt')",
                                 "SELECT 1; SELECT 2", "DROP TABLE numbers"])
def test_cli_refusal_is_one_line_and_exit_2(no_trace, capsys, sql):
    assert kpi_main(["sql", "--db", str(no_trace), "--query", sql]) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith("error: refused:") and out.err.count("\n") == 1


def test_cli_timeout_exit_2(no_trace, capsys):
    assert kpi_main(["sql", "--db", str(no_trace), "--query", "SELECT count(*) FROM range(100000000000) a",
                     "--timeout", "0.3"]) == 2
    assert "stopped: the query ran longer than the 0.3-second limit" in capsys.readouterr().err


def test_dates_come_back_as_dates(no_trace):
    r = run_query(no_trace, "SELECT DATE '2024-10-07' AS d, TIMESTAMP '2024-10-07 12:30:00' AS t")
    assert str(r.frame.loc[0, "d"]) == "2024-10-07" and str(r.frame.loc[0, "t"]) == "2024-10-07 12:30:00"


@pytest.mark.parametrize("sql", ["SELECT * FROM checkpoint()", "SELECT * FROM force_checkpoint()"])
def test_checkpoint_functions_inside_a_select_change_nothing(no_trace, sql):
    try:
        run_query(no_trace, sql)
    except SqlRefused:
        pass  # refused or a no-op on the read-only attachment: either way the no_trace fixture checks the files


def test_a_query_over_the_memory_limit_fails_cleanly_without_spilling(no_trace):
    with pytest.raises(SqlRefused, match="Out of Memory"):
        run_query(no_trace, "SELECT list(range) FROM range(50000000)", memory_limit="64MB")
