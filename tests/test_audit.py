"""The audit log (kpi/access/audit.py): rows, where the file lives, append and read back, and no event lost when another
process holds the audit file."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import pytest

from etl.db import SCHEMA_FILES, connect
from kpi.access import audit


def test_audit_file_sits_beside_the_database_unless_configured(tmp_path, monkeypatch):
    monkeypatch.delenv("APP_AUDIT_DB", raising=False)
    assert audit.audit_path(tmp_path / "app.duckdb") == tmp_path / "app.audit.duckdb"
    monkeypatch.setenv("APP_AUDIT_DB", str(tmp_path / "elsewhere.duckdb"))
    assert audit.audit_path(tmp_path / "app.duckdb") == tmp_path / "elsewhere.duckdb"


def test_the_main_database_does_not_get_the_audit_table(tmp_path):
    assert all(p.name != "schema_audit.sql" for p in SCHEMA_FILES)
    con = connect(tmp_path / "app.duckdb")
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()
    assert "audit_log" not in tables and "request" in tables


def test_event_row_checks_and_serialises():
    at = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    row = audit.event_row("a@x", "analyst", "page_view", "overview", {"period": "2023-07", "kpi": "k"}, at=at)
    assert row["occurred_at"] == datetime(2026, 3, 1, 9, 30) and row["detail"] == '{"kpi": "k", "period": "2023-07"}'
    assert audit.event_row("a@x", "analyst", "sign_in")["detail"] is None
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.event_row("a@x", "analyst", "delete_everything")
    with pytest.raises(ValueError, match="needs a who"):
        audit.event_row("", "analyst", "sign_in")


def test_record_and_read_back_newest_first_with_a_filter(tmp_path):
    path = tmp_path / "app.audit.duckdb"
    assert audit.read_log(path).empty
    for i, event in enumerate(["sign_in", "page_view", "sql_query", "download"]):
        audit.record(path, who="a@x", role="analyst", event=event, page="p", detail={"i": i},
                     at=datetime(2026, 1, 1, 10, i, tzinfo=UTC))
    log = audit.read_log(path)
    assert log["event"].tolist() == ["download", "sql_query", "page_view", "sign_in"]
    assert list(log.columns) == audit.COLUMNS
    assert audit.read_log(path, event="sql_query")["detail"].tolist() == ['{"i": 2}']
    assert len(audit.read_log(path, limit=2)) == 2
    con = duckdb.connect(str(path), read_only=True)  # the table of etl/schema_audit.sql, nothing else
    try:
        assert con.execute("SELECT count(*) FROM audit_log").fetchone() == (4,)
    finally:
        con.close()


HOLDER = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)"


def test_an_event_is_kept_aside_not_lost_when_another_process_holds_the_file(tmp_path, monkeypatch):
    path = tmp_path / "app.audit.duckdb"
    audit.record(path, who="a@x", role="analyst", event="sign_in", at=datetime(2026, 1, 1, 9, tzinfo=UTC))
    monkeypatch.setattr(audit, "_RETRY_S", 0.2)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        audit.record(path, who="b@x", role="monitor", event="page_view", page="overview", detail={"period": "x"},
                     at=datetime(2026, 1, 1, 10, tzinfo=UTC))
    finally:
        holder.kill()
        holder.wait()
    pending = audit.pending_path(path).read_text().splitlines()
    assert len(pending) == 1 and json.loads(pending[0])["who"] == "b@x"
    log = audit.read_log(path)
    assert log["who"].tolist() == ["b@x", "a@x"] and log["event"].tolist() == ["page_view", "sign_in"]
    assert audit.read_log(path, event="page_view")["who"].tolist() == ["b@x"]


OLD_SCHEMA = """CREATE TABLE audit_log (occurred_at TIMESTAMP NOT NULL, who VARCHAR NOT NULL, role VARCHAR NOT NULL,
    event VARCHAR NOT NULL CHECK (event IN ('sign_in', 'access_denied', 'page_view', 'download', 'sql_query')),
    page VARCHAR, detail VARCHAR, outcome VARCHAR NOT NULL, session_id VARCHAR)"""


def test_an_audit_file_made_before_the_note_event_takes_it_and_keeps_its_rows(tmp_path):
    path = tmp_path / "app.audit.duckdb"
    con = duckdb.connect(str(path))  # as an earlier version left it: its CHECK knows no 'note' event
    try:
        con.execute(OLD_SCHEMA)
        con.execute("INSERT INTO audit_log VALUES (TIMESTAMP '2025-01-01 09:00', 'a@x', 'analyst', 'sign_in', NULL, "
                    "NULL, 'ok', 's1')")
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO audit_log VALUES (now()::TIMESTAMP, 'a@x', 'analyst', 'note', NULL, NULL, 'ok', "
                        "NULL)")
    finally:
        con.close()
    audit.record(path, who="b@x", role="leadership", event="note", detail={"note_id": "n1"},
                 at=datetime(2026, 1, 1, 10, tzinfo=UTC))
    audit.record(path, who="c@x", role="monitor", event="page_view", page="overview",
                 at=datetime(2026, 1, 1, 11, tzinfo=UTC))
    log = audit.read_log(path)
    assert log["event"].tolist() == ["page_view", "note", "sign_in"]
    assert log.loc[2, "session_id"] == "s1" and log.loc[1, "detail"] == '{"note_id": "n1"}'
    assert not audit.pending_path(path).exists()
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
        check = con.execute("SELECT expression FROM duckdb_constraints() WHERE table_name = 'audit_log' "
                            "AND constraint_type = 'CHECK'").fetchone()[0]
    finally:
        con.close()
    assert tables == ["audit_log"] and all(f"'{e}'" in check for e in audit.EVENTS)


def test_the_schema_check_names_every_event():
    from etl.db import AUDIT_SCHEMA

    con = duckdb.connect()
    con.execute(AUDIT_SCHEMA.read_text())
    for event in audit.EVENTS:
        con.execute("INSERT INTO audit_log VALUES (now()::TIMESTAMP, 'a', 'analyst', ?, NULL, NULL, 'ok', NULL)",
                    [event])
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO audit_log VALUES (now()::TIMESTAMP, 'a', 'analyst', 'other', NULL, NULL, 'ok', NULL)")
