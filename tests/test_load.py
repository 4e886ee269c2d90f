"""Loading Blade extracts: exit codes, quarantine, atomic rejection, idempotence, pseudonymisation."""

from __future__ import annotations

import csv
import re

import duckdb
import pytest

from etl.__main__ import main as etl_main
from etl.inputs import scan_file
from etl.load import load_paths
from etl.pseudonymise import pseudonym
from etl.sources import SPLIT_BUFFER
from tests.support.blade import Blade

KEY = bytes.fromhex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")


def _sample() -> Blade:
    b = Blade()
    r = b.issued_plan("2023-01-02", "2023-05-22")
    b.review(r, "2024-05-01", "2024-05-20", "M")
    b.request(b.person(), "2023-02-01", "N", "2023-03-01")
    return b


def _rows(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _rewrite(path, edit):
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    edit(rows)
    fields = list(rows[0].keys())
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def test_clean_load_exits_0_and_fills_every_module(tmp_path, capsys):
    folder = _sample().write(tmp_path / "x")
    db = tmp_path / "app.duckdb"
    assert etl_main(["load", str(folder), "--db", str(db)]) == 0
    counts = dict(_rows(db, "SELECT module, sum(rows_loaded) FROM load_log GROUP BY 1"))
    assert counts["person"] == 2 and counts["requests"] == 2 and counts["assessment"] == 1
    assert counts["namedplan"] == 1 and counts["activeplans"] == 1
    assert _rows(db, "SELECT count(*) FROM quarantine") == [(0,)]
    assert "of 2 rows loaded" in capsys.readouterr().out


def test_reloading_an_identical_file_is_a_reported_no_op(tmp_path, capsys):
    folder = _sample().write(tmp_path / "x")
    db = tmp_path / "app.duckdb"
    assert etl_main(["load", str(folder), "--db", str(db)]) == 0
    capsys.readouterr()
    assert etl_main(["load", str(folder), "--db", str(db)]) == 0
    assert "already loaded" in capsys.readouterr().out
    assert _rows(db, "SELECT count(*) FROM request") == [(2,)]
    assert _rows(db, "SELECT count(*) FROM load_log") == [(9,)]


def test_bad_rows_are_quarantined_with_row_column_and_reason_and_exit_1(tmp_path, capsys):
    b = _sample()
    b.request(b.person(), "2023-13-45", "Y", "2023-03-01")  # impossible date
    b.request(b.person(), "2023-03-01", "Q", "2023-03-20")  # unknown outcome code
    b.request(b.person(), "2023-03-01", "Y", "2023-02-01")  # decided before received
    folder = b.write(tmp_path / "x")
    db = tmp_path / "app.duckdb"
    assert etl_main(["load", str(folder), "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "3 rows quarantined" in out
    q = _rows(db, "SELECT source_file, row_number, column_name, reason FROM quarantine ORDER BY row_number")
    assert [(r[1], r[2]) for r in q] == [(3, "receiveddate"), (4, "requestoutcome"), (5, "requestoutcomedate")]
    assert q[0][0].endswith("_requests.csv")
    assert "not a valid date" in q[0][3] and "not a valid code" in q[1][3] and "before" in q[2][3]
    assert _rows(db, "SELECT count(*) FROM request") == [(2,)]  # the good rows are in


def test_children_of_quarantined_rows_are_quarantined_not_orphaned(tmp_path):
    b = Blade()
    p = b.person()
    r = b.request(p, "2023-01-02", "Y", "2030-01-01")  # future date: quarantined
    b.assessment(r, "Y", "2023-05-01")
    db = tmp_path / "app.duckdb"
    report = load_paths([b.write(tmp_path / "x")], db)
    assert report.exit_code == 1
    reasons = _rows(db, "SELECT module, reason FROM quarantine ORDER BY module")
    assert ("assessment", "refers to a requests record that is not loaded") in reasons
    assert _rows(db, "SELECT count(*) FROM assessment") == [(0,)]


def test_unknown_layout_rejects_the_whole_load_and_writes_nothing(tmp_path, capsys):
    folder = _sample().write(tmp_path / "x")
    (folder / "notes.csv").write_text("colour,flavour\nred,sweet\n")
    db = tmp_path / "app.duckdb"
    assert etl_main(["load", str(folder), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "notes.csv" in err and "unknown layout" in err and "requests (" in err
    assert not db.exists() or _rows(db, "SELECT count(*) FROM load_log") == [(0,)]


def test_missing_required_column_rejects_with_file_and_column(tmp_path, capsys):
    folder = _sample().write(tmp_path / "x")
    path = next(folder.glob("*_requests.csv"))
    _rewrite(path, lambda rows: [r.pop("receiveddate") for r in rows])
    db = tmp_path / "app.duckdb"
    assert etl_main(["load", str(folder), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert path.name in err and "receiveddate" in err and "required column" in err


def test_missing_path_is_a_clear_error(tmp_path, capsys):
    assert etl_main(["load", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "a.duckdb")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_failure_mid_load_rolls_everything_back(tmp_path, monkeypatch):
    folder = _sample().write(tmp_path / "x")
    db = tmp_path / "app.duckdb"
    from etl import load as load_mod

    original = load_mod.Loader.load_file

    def explode(self, path, module, mapping, load_id, area, buffer=None):
        if module.name == "activeplans":
            raise RuntimeError("disk full")
        return original(self, path, module, mapping, load_id, area, buffer)

    monkeypatch.setattr(load_mod.Loader, "load_file", explode)
    with pytest.raises(RuntimeError):
        load_paths([folder], db)
    assert _rows(db, "SELECT count(*) FROM request") == [(0,)]
    assert _rows(db, "SELECT count(*) FROM load_log") == [(0,)]


def test_a_later_extract_revises_records_with_the_same_id(tmp_path):
    b = Blade()
    p = b.person(pid=501)
    b.request(p, "2023-01-02", "A", None, rid=900)
    db = tmp_path / "app.duckdb"
    load_paths([b.write(tmp_path / "jan")], db)
    b.rows["requests"][0].update(requestoutcome="Y", requestoutcomedate="2023-Feb-10 00:00:00")
    b.rows["sen2"][0]["year"] = 2026  # a different file, as next month's export would be
    assert load_paths([b.write(tmp_path / "feb")], db).exit_code == 0
    assert _rows(db, "SELECT request_outcome, request_outcome_date::VARCHAR FROM request") == [("Y", "2023-02-10")]


def test_no_identifier_from_the_extract_reaches_any_table(tmp_path):
    b = _sample()
    folder = b.write(tmp_path / "x")
    db = tmp_path / "app.duckdb"
    load_paths([folder], db)
    secrets = set()
    for person in b.rows["person"]:
        secrets |= {person["surname"], person["forename"], person["upn"], person["uniquelearnernumber"],
                    person["postcode"], person["personbirthdate"][:11]}
    raw_ids = {str(p["persontableid"]) for p in b.rows["person"]}
    con = duckdb.connect(str(db), read_only=True)
    tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()]
    dumped = []
    for t in tables:
        for row in con.execute(f"SELECT * FROM {t}").fetchall():
            dumped.extend(str(v) for v in row if v is not None)
    columns = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns").fetchall()}
    con.close()
    text = "\n".join(dumped)
    for s in secrets:
        assert s not in text, f"identifier {s!r} found in the database"
    assert not columns & {"surname", "forename", "upn", "uniquelearnernumber", "postcode", "personbirthdate"}
    keys = {r[0] for r in _rows(db, "SELECT person_key FROM person")}
    assert keys == {pseudonym(i, KEY) for i in raw_ids}
    assert all(re.fullmatch(r"[0-9a-f]{64}", k) for k in keys)
    assert _rows(db, "SELECT DISTINCT postcode_district FROM person") == [("LU7",)]


def test_age_at_request_is_kept_instead_of_the_birth_date(tmp_path):
    b = Blade()
    p = b.person(birth="2014-03-05")
    b.request(p, "2023-03-04", "A", None)  # the day before the 9th birthday
    b.request(p, "2023-03-05", "A", None)  # the birthday
    db = tmp_path / "app.duckdb"
    load_paths([b.write(tmp_path / "x")], db)
    assert _rows(db, "SELECT age_at_request FROM request ORDER BY received_date") == [(8,), (9,)]


def test_quarantine_never_stores_identifier_values(tmp_path):
    b = Blade()
    b.person(birth="2014-02-31")  # impossible birth date: quarantined, value withheld
    db = tmp_path / "app.duckdb"
    load_paths([b.write(tmp_path / "x")], db)
    rows = _rows(db, "SELECT column_name, value FROM quarantine")
    assert rows == [("personbirthdate", None)]


def test_row_numbers_hold_across_a_file_larger_than_a_duckdb_row_group(tmp_path):
    """Row numbers come from the file order DuckDB keeps while reading in parallel: check them far down a big
    file (several row groups), with blank lines not counted."""
    path = tmp_path / "Blade-Export_01-01-2025_sen2.csv"
    n = 300_000
    with open(path, "w", newline="") as fh:
        fh.write("sen2tableid,collection,year,referencedate,lea\n")
        for i in range(1, n + 1):
            if i == 1_000:
                fh.write("\n")  # a blank line: not a row
            year = "abc" if i in (5, 250_000, n) else "2025"
            fh.write(f"{i},SEN2,{year},2025-Jan-16 00:00:00,823\n")
    assert scan_file(path).buffer == SPLIT_BUFFER  # read in parts, on both cores
    report = load_paths([path], tmp_path / "app.duckdb")
    assert report.files[0].rows_read == n
    q = _rows(tmp_path / "app.duckdb", "SELECT row_number, reason FROM quarantine ORDER BY row_number")
    assert [r[0] for r in q] == [5, 250_000, n]
    assert {r[1] for r in q} == {"not a whole number"}
    rows = _rows(tmp_path / "app.duckdb", "SELECT row_number, row_values FROM quarantine_row ORDER BY row_number")
    assert [(r[0], r[1].split(",")[0]) for r in rows] == [(i, f'{{"sen2tableid":"{i}"') for i in (5, 250_000, n)]


def test_a_file_is_read_in_parts_only_where_no_record_can_outgrow_a_part(tmp_path):
    """DuckDB 2.0.0 drops a line longer than its read buffer without a word: the smaller buffer that splits a large
    file across cores is used only when every line is far shorter and no quoted cell can span lines."""
    line = "1,SEN2,2025,2025-Jan-16 00:00:00,823\n"
    rows = line * (3 * SPLIT_BUFFER // len(line))
    limit = SPLIT_BUFFER // 4  # the longest line the smaller buffer is used with (newline not counted)
    cases = {"small.csv": (line * 100, None), "large.csv": (rows, SPLIT_BUFFER),
             "quoted.csv": (rows + '2,"SEN2",2025,2025-Jan-16 00:00:00,823\n', None),
             "long line.csv": (rows + "3,SEN2,2025,2025-Jan-16 00:00:00," + "8" * (SPLIT_BUFFER // 3) + "\n", None),
             "line at the limit.csv": (rows + "8" * limit + "\n" + rows, SPLIT_BUFFER),
             "line one over.csv": (rows + "8" * (limit + 1) + "\n" + rows, None),
             "last line over, unended.csv": (rows + "8" * (limit + 1), None)}
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text("sen2tableid,collection,year,referencedate,lea\n" + text)
        assert scan_file(tmp_path / name).buffer == expected, name


@pytest.mark.parametrize("long_at", [0, 999, 1000, 1001, 2500, 5_000, None])
def test_the_scan_for_long_lines_sees_a_line_that_crosses_its_parts(tmp_path, monkeypatch, long_at):
    """scan_file reads a file in parts (8 MB; 1,000 bytes here): a line too long for the smaller buffer is found
    wherever it starts or ends, across a part's edge too, and its fingerprint is the whole file's."""
    import hashlib

    import etl.inputs as inputs

    monkeypatch.setattr(inputs, "_SCAN_CHUNK", 1000)
    limit = SPLIT_BUFFER // 4
    lines = [f"{i},SEN2,2025,2025-Jan-16 00:00:00,823" for i in range(2 * SPLIT_BUFFER // 30)]
    text = "\n".join(lines) + "\n"
    if long_at is not None:
        text = text[:long_at] + "\n" + "8" * (limit + 1) + "\n" + text[long_at:]
    path = tmp_path / "x.csv"
    path.write_text(text)
    expected = SPLIT_BUFFER if max(map(len, text.split("\n"))) <= limit else None
    assert (long_at is None) == (expected is not None)
    scan = scan_file(path)
    assert scan.buffer == expected
    assert scan.sha256 == hashlib.sha256(path.read_bytes()).hexdigest() and scan.utf8 and not scan.odd_line_ends


@pytest.mark.parametrize("text, odd, utf8", [
    (b"a,b\r\n1,2\r\n", False, True),  # Windows line ends throughout
    (b"a,b\n1,2\n", False, True),
    (b"a,b\r\n1,2\n", True, True),  # two ways
    (b"a,b\r\r\n1,2\r\n", True, True),  # a carriage return before a carriage return
    (b"a,b\n1,2\r", True, True),  # one not followed by a line feed
    (b"a,b\n1,caf\xc3\xa9\n", False, True),
    (b"a,b\n1,caf\xe9\n", False, False),  # Windows-1252, not UTF-8
])
def test_one_read_of_a_file_tells_its_line_ends_and_encoding_whatever_its_parts(tmp_path, monkeypatch, text, odd,
                                                                                 utf8):
    """scan_file's facts hold wherever its parts (8 MB; here every possible split of these few bytes) cut the file:
    inside a CR LF pair or a two-byte character."""
    import etl.inputs as inputs

    path = tmp_path / "x.csv"
    path.write_bytes(text)
    for part in range(1, len(text) + 1):
        monkeypatch.setattr(inputs, "_SCAN_CHUNK", part)
        scan = scan_file(path)
        assert (scan.odd_line_ends, scan.utf8, scan.buffer) == (odd, utf8, None), part


def test_a_scan_running_ahead_of_a_load_that_has_ended_stops_at_its_next_part(tmp_path, monkeypatch):
    """The load scans files ahead on a second thread; when the load fails or is interrupted it sets ``stop``, and
    a scan in progress gives up at its next part (8 MB; 10 bytes here) rather than reading a large file to the end."""
    import threading

    import etl.inputs as inputs

    monkeypatch.setattr(inputs, "_SCAN_CHUNK", 10)
    path = tmp_path / "x.csv"
    path.write_text("a,b\n" * 100)
    assert scan_file(path, threading.Event()).size == 400  # never set: the whole file

    class SetAfterThreeParts(threading.Event):  # the scan asks before each part it reads
        asked = 0

        def is_set(self):
            self.asked += 1
            return self.asked > 3

    stop = SetAfterThreeParts()
    with pytest.raises(inputs.ScanStopped):
        scan_file(path, stop)
    assert stop.asked == 4  # three parts read of 40, then stopped


@pytest.mark.parametrize("ends", ["one CR LF among LF lines", "CR CR LF"])
def test_a_file_whose_lines_end_oddly_loads_every_row_the_careful_way(tmp_path, ends):
    """DuckDB's strict reader stops at a file with mixed line ends (no reject recorded, the load would be aborted):
    the loader finds them as it hashes the file and reads it with Python's csv module instead."""
    b = _sample()
    folder = b.write(tmp_path / "x")
    path = next(folder.glob("*_requests.csv"))
    lines = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n")
    if ends == "CR CR LF":
        lines = [line + b"\r" for line in lines[:-1]] + lines[-1:]
    lines[1] += b"\r"
    path.write_bytes(b"\n".join(lines))
    report = load_paths([folder], tmp_path / "app.duckdb")
    requests = next(f for f in report.files if f.module == "requests")
    assert (requests.rows_read, requests.rows_quarantined) == (len(b.rows["requests"]), 0)


@pytest.mark.parametrize("path", ["DuckDB", "Python"])
def test_a_row_of_empty_cells_counts_in_the_row_numbers_but_is_not_a_record(tmp_path, monkeypatch, path):
    """A row of empty cells (",,,,", as a spreadsheet leaves after a row is cleared) is a row a person counts: the
    rows after it keep their numbers. It is neither loaded, quarantined nor counted as read. Both read paths."""
    if path == "Python":  # the path of workbooks, other encodings and CSVs DuckDB cannot read strictly
        monkeypatch.setattr("etl.loader.batch_key", lambda *_: None)
        monkeypatch.setattr("etl.sources._duckdb_csv", lambda *_: False)
    b = _sample()
    folder = b.write(tmp_path / "x")
    file = next(folder.glob("*_requests.csv"))
    lines = file.read_text().splitlines()
    header = lines[0].split(",")
    lines.insert(2, "," * (len(header) - 1))  # row 2: empty cells
    bad = lines[3].split(",")  # row 3 (the second request)
    bad[header.index("receiveddate")] = "31/02/2023"
    lines[3] = ",".join(bad)
    file.write_text("\n".join(lines) + "\n")
    report = load_paths([folder], tmp_path / "app.duckdb")
    requests = next(f for f in report.files if f.module == "requests")
    assert [(p.row, p.column) for p in requests.problems] == [(3, "receiveddate")]
    assert (requests.rows_read, requests.rows_quarantined) == (len(b.rows["requests"]), 1)


HUGE = "x" * ((2 << 20) + 10)  # a 2 MB cell: over Python csv's field limit and DuckDB's line limit


def test_a_2mb_cell_is_quarantined_naming_file_row_and_column_not_a_traceback(tmp_path, capsys):
    b = _sample()
    b.rows["requests"][-1]["requestoutcome"] = "N" + HUGE
    folder = b.write(tmp_path / "x")
    db = tmp_path / "app.duckdb"
    assert etl_main(["load", str(folder), "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "_requests.csv, row 2, column requestoutcome: value is too long" in out
    assert "xxxx" not in out
    q = _rows(db, "SELECT source_file, row_number, column_name, value FROM quarantine WHERE reason LIKE '%too long%'")
    assert len(q) == 1 and q[0][0].endswith("_requests.csv") and q[0][1:] == (2, "requestoutcome", None)
    assert _rows(db, "SELECT max(length(row_values)) FROM quarantine_row")[0][0] < 1000
    assert _rows(db, "SELECT count(*) FROM request") == [(1,)]  # the other row is in


def test_a_2mb_identifier_cell_through_load_paths(tmp_path):
    b = _sample()
    b.rows["person"][0]["surname"] = HUGE
    report = load_paths([b.write(tmp_path / "x")], tmp_path / "app.duckdb")
    assert report.exit_code == 1
    person = next(r for r in report.files if r.module == "person")
    assert person.rows_quarantined == 1
    assert [(p.row, p.column, p.value) for p in person.problems] == [(1, "surname", None)]


def test_a_cell_beyond_the_csv_field_limit_rejects_the_file_clearly(tmp_path, capsys):
    b = _sample()
    b.rows["requests"][0]["requestoutcome"] = "x" * 5000
    folder = b.write(tmp_path / "x")
    db = tmp_path / "app.duckdb"
    old = csv.field_size_limit(1000)
    try:
        assert etl_main(["load", str(folder), "--db", str(db)]) == 2
    finally:
        csv.field_size_limit(old)
    err = capsys.readouterr().err
    assert "_requests.csv" in err and "field larger than field limit" in err and "Traceback" not in err
    assert not db.exists() or _rows(db, "SELECT count(*) FROM load_log") == [(0,)]


def test_the_writing_connection_writes_load_sized_row_groups_beside_its_file(tmp_path):
    """etl.db.connect attaches the file with LOAD_ROW_GROUP_SIZE rows per row group (so a council's tables of
    32,768 rows or more are compressed during their inserts, not one after another at the commit), as the
    default database, with its working files spilling beside it as DuckDB's own connect(path) does."""
    from etl.db import LOAD_ROW_GROUP_SIZE, connect

    db = tmp_path / "area.duckdb"
    con = connect(db)
    try:
        con.execute(f"CREATE TABLE t AS SELECT range AS i FROM range({LOAD_ROW_GROUP_SIZE + 10})")
        groups = con.execute("SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('t')").fetchone()[0]
        assert LOAD_ROW_GROUP_SIZE < 122_880 and groups == 2  # DuckDB's default size would hold it in one
        assert con.execute("SELECT current_setting('temp_directory')").fetchone()[0] == f"{db}.tmp"
        assert con.execute("SELECT count(*) FROM request").fetchone()[0] == 0  # the schema, unqualified
    finally:
        con.close()
    with duckdb.connect(str(db), read_only=True) as reader:  # what was written is the file's, under its own name
        assert reader.execute("SELECT count(*) FROM t").fetchone()[0] == LOAD_ROW_GROUP_SIZE + 10


def _delete(path):
    path.unlink()


def _append(path):
    with open(path, "a") as fh:
        fh.write("99,1,2024-Jan-02 00:00:00,Parent,0,,,0,0\n")


@pytest.mark.parametrize("step, action, reason", [
    ("plan_file", _delete, "cannot be read (No such file or directory)"),  # deleted, moved or locked
    ("scan_file", _append, "changed while the load was reading it (still being written or copied?): load it "
                           "again once it is complete"),
])
def test_a_file_gone_or_changed_after_the_load_first_read_it_is_a_clear_rejection(tmp_path, monkeypatch, step,
                                                                                  action, reason):
    """A file deleted after the load recognised it (``plan_file``), or written to after it was scanned
    (``scan_file``: the facts that decide how it is read, and the SHA-256 the load log keeps, come from a scan made
    ahead of the read), is named with the reason; the load is rejected and the database unchanged: no traceback."""
    import etl.load as load_mod
    from etl.report import LoadRejected

    folder = _sample().write(tmp_path / "x")
    target = next(folder.glob("*_requests.csv"))
    original = getattr(load_mod, step)

    def then_act(path, *rest):
        result = original(path, *rest)
        if path == target:
            action(path)
        return result

    monkeypatch.setattr(load_mod, step, then_act)
    db = tmp_path / "app.duckdb"
    with pytest.raises(LoadRejected) as err:
        load_paths([folder], db)
    [problem] = err.value.problems
    assert (problem.file, problem.reason) == (target.name, reason)
    assert _rows(db, "SELECT count(*) FROM person") == [(0,)]


def test_a_database_path_that_is_not_a_duckdb_file_is_refused_plainly(tmp_path, capsys):
    """A SQLite file (or anything else) where the database should be: the load says the file is not a DuckDB
    database, rather than DuckDB reaching for its SQLite extension over the network."""
    import sqlite3

    db = tmp_path / "app.duckdb"
    with sqlite3.connect(db) as lite:
        lite.execute("CREATE TABLE t (x)")
    lite.close()
    code = etl_main(["load", "--db", str(db), str(_sample().write(tmp_path / "x"))])
    err = capsys.readouterr().err
    assert code == 2 and f"cannot open the database {db}: " in err and "not a valid DuckDB database file" in err
    assert ".loading-" not in err  # the load's working copy is called by the name the user gave


def test_a_request_sent_again_without_its_person_keeps_its_age_at_request(tmp_path):
    """A corrected requests file loaded on its own supersedes the request; the child's age at the request is kept
    from the stored record (the person file, with the birth date, is not in this load). Found in review: a context
    joined afresh after the old record's deletion would have lost the age and recorded no revision."""
    b = Blade()
    b.request(b.person(birth="2014-03-05"), "2023-03-04", "A", None)
    db = tmp_path / "app.duckdb"
    load_paths([b.write(tmp_path / "jan")], db)
    assert _rows(db, "SELECT request_outcome, age_at_request FROM request") == [("A", 8)]
    b.rows["requests"][0].update(requestoutcome="N", requestoutcomedate="2023-Apr-02 00:00:00")
    load_paths([next(b.write(tmp_path / "feb").glob("*_requests.csv"))], db)
    assert _rows(db, "SELECT request_outcome, age_at_request FROM request") == [("N", 8)]
