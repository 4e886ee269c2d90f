"""Validation that reports everything, and files as they really arrive: encodings, delimiters, blank lines,
trailing empty columns, Excel error cells, title rows above the header."""

from __future__ import annotations

import csv
from datetime import date, timedelta

import duckdb
from openpyxl import Workbook

from demo.sen2_layouts import write_template
from etl.__main__ import main as etl_main
from etl.load import load_paths
from tests.support.blade import Blade


def _q(db):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT source_file, row_number, column_name, value, reason FROM quarantine "
                           "ORDER BY source_file, row_number, column_name").fetchall()
    finally:
        con.close()


def _count(db, table):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def _reencode(path, encoding="utf-8", delimiter=",", bom=False, title=None, blank_lines=False, trailing=0):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    with open(path, "w", newline="", encoding=("utf-8-sig" if bom else encoding)) as fh:
        w = csv.writer(fh, delimiter=delimiter)
        if title:
            w.writerow([title] + [""] * (len(rows[0]) - 1))
            fh.write("\r\n")
        for i, r in enumerate(rows):
            w.writerow(r + [""] * trailing)
            if blank_lines and i % 2:
                fh.write("\r\n")


def _sample() -> Blade:
    b = Blade()
    b.issued_plan("2023-01-02", "2023-05-22")
    b.request(b.person(), "2023-02-01", "N", "2023-03-01")
    return b


def test_every_problem_in_a_file_is_reported_not_just_the_first(tmp_path):
    b = Blade()
    p = b.person()
    b.request(p, "2023-13-45", "Q", "2023-03-01")   # bad date and bad code on one row
    b.request(p, "2023-03-01", "Y", "2023-02-01")   # decided before received
    b.request(p, "2023-03-01", "Y", "")             # outcome Y without a date
    db = tmp_path / "a.duckdb"
    report = load_paths([b.write(tmp_path / "x")], db)
    assert report.exit_code == 1
    q = _q(db)
    assert [(r[1], r[2]) for r in q] == [(1, "receiveddate"), (1, "requestoutcome"), (2, "requestoutcomedate"),
                                         (3, "requestoutcomedate")]
    assert q[0][3] == "2023-13-45" and q[1][3] == "Q"


def test_impossible_and_implausible_dates(tmp_path):
    future = (date.today() + timedelta(days=30)).isoformat()
    b = Blade()
    baby = b.person(birth="2023-06-01")
    b.request(baby, "2023-03-01", "A", None)         # request before the child's birth
    adult = b.person(birth="1990-01-01")
    b.request(adult, "2023-03-01", "A", None)        # 33 at the request
    b.request(b.person(), future, "A", None)         # received in the future
    young = b.person(birth="1998-03-02")
    b.request(young, "2023-03-01", "A", None)        # 24 the day before the 25th birthday … boundary
    b.request(young, "2023-03-02", "A", None)        # exactly 25: allowed (over 25 is not)
    b.person(birth=future)                           # birth in the future
    db = tmp_path / "a.duckdb"
    load_paths([b.write(tmp_path / "x")], db)
    reasons = [(r[0].split("_")[-1], r[1], r[4]) for r in _q(db)]
    assert ("requests.csv", 1, "request is dated before the child's birth") in reasons
    assert ("requests.csv", 2, "child is over 25 at the request") in reasons
    assert ("requests.csv", 3, "date is in the future") in reasons
    assert not [r for r in reasons if r[0] == "requests.csv" and r[1] in (4, 5)]
    assert ("person.csv", 5, "date is in the future") in reasons


def test_duplicate_keys_and_foreign_keys_across_modules(tmp_path):
    b = Blade()
    p = b.person(pid=7)
    b.person(pid=7)                                  # the same person id twice
    b.request(999, "2023-03-01", "A", None)          # a person not in the extract
    r = b.request(p, "2023-03-01", "Y", "2023-04-01")
    b.assessment(r, "Y", "2023-07-01")
    b.assessment(12345, "Y", "2023-07-01")           # a request not in the extract
    db = tmp_path / "a.duckdb"
    assert load_paths([b.write(tmp_path / "x")], db).exit_code == 1
    reasons = {(r[0].split("_")[-1], r[1], r[4]) for r in _q(db)}
    assert ("person.csv", 1, "duplicate key: the same id appears on more than one row") in reasons
    assert ("person.csv", 2, "duplicate key: the same id appears on more than one row") in reasons
    assert ("requests.csv", 1, "refers to a person record that is not loaded") in reasons
    assert ("assessment.csv", 2, "refers to a requests record that is not loaded") in reasons


def test_utf8_bom_windows_1252_semicolons_tabs_blank_lines_trailing_columns_and_a_title_row(tmp_path):
    b = _sample()
    reference = tmp_path / "ref.duckdb"
    load_paths([b.write(tmp_path / "plain")], reference)
    folder = b.write(tmp_path / "odd")
    files = sorted(folder.glob("*.csv"))
    variants = [dict(bom=True), dict(encoding="cp1252", delimiter=";"), dict(delimiter="\t", blank_lines=True),
                dict(trailing=3), dict(title="SEN2 extract – Central Bedfordshire, January 2025"),
                dict(encoding="cp1252", title="Extract £ “monthly”", delimiter="|")]
    for i, path in enumerate(files):
        _reencode(path, **variants[i % len(variants)])
    db = tmp_path / "odd.duckdb"
    report = load_paths([folder], db)
    assert report.exit_code == 0, [str(p) for f in report.files for p in f.problems]
    assert not report.all_warnings
    for table in ("person", "request", "assessment", "named_plan", "active_plan"):
        assert _count(db, table) == _count(reference, table)
    con = duckdb.connect(str(db), read_only=True)
    a = con.execute("SELECT request_id, received_date, request_outcome FROM request ORDER BY 1").fetchall()
    con.close()
    con = duckdb.connect(str(reference), read_only=True)
    assert a == con.execute("SELECT request_id, received_date, request_outcome FROM request ORDER BY 1").fetchall()
    con.close()


def test_windows_1252_text_is_decoded(tmp_path):
    b = Blade()
    b.person(ethnicity="WBRI")
    b.rows["sen2"][0]["collection"] = "SEN2 – £ test"
    folder = b.write(tmp_path / "x")
    sen2 = next(folder.glob("*_sen2.csv"))
    sen2.write_bytes(sen2.read_text(encoding="utf-8").encode("cp1252"))
    db = tmp_path / "a.duckdb"
    assert load_paths([folder], db).exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT collection FROM sen2_return").fetchone() == ("SEN2 – £ test",)
    con.close()


def test_values_under_a_blank_heading_are_ignored_with_a_warning(tmp_path, capsys):
    folder = _sample().write(tmp_path / "x")
    path = next(folder.glob("*_requests.csv"))
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + ","] + [ln + ",stray" for ln in lines[1:]]) + "\n")
    assert etl_main(["load", str(folder), "--db", str(tmp_path / "a.duckdb")]) == 0
    assert len(lines) > 2 and f"{len(lines) - 1} values under a blank heading were ignored" in capsys.readouterr().out


def test_a_row_longer_than_the_header_is_quarantined(tmp_path):
    folder = _sample().write(tmp_path / "x")
    path = next(folder.glob("*_requests.csv"))
    lines = path.read_text().splitlines()
    lines[1] += ",surplus,cells"
    path.write_text("\n".join(lines) + "\n")
    db = tmp_path / "a.duckdb"
    assert load_paths([folder], db).exit_code == 1
    assert [(r[1], r[2], r[4]) for r in _q(db) if r[0] == path.name] == [
        (1, "(beyond the last heading)", "row has more cells than the header has columns")]


def test_excel_error_cells_and_a_merged_title_row_in_the_template(tmp_path):
    b = Blade()
    p = b.person()
    b.request(p, "2023-03-01", "Y", "2023-04-01")
    b.request(p, "2023-03-02", "Y", "#REF!")          # a formula that broke
    b.request(p, "2023-03-03", "#N/A", None)
    path = write_template(b.rows, tmp_path / "t.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(path)
    ws = wb["Requests"]
    ws.insert_rows(1, 2)
    ws["A1"] = "SEN2 return 2025: requests"
    ws.merge_cells("A1:F1")
    wb.save(path)
    db = tmp_path / "a.duckdb"
    assert load_paths([path], db).exit_code == 1
    q = [(r[0], r[1], r[2], r[4]) for r in _q(db)]
    assert ("t.xlsx [Requests]", 2, "Request outcome date", "an Excel error cell (the formula behind it failed)") in q
    assert ("t.xlsx [Requests]", 3, "Request outcome", "an Excel error cell (the formula behind it failed)") in q
    assert _count(db, "request") == 1


def test_a_workbook_sheet_that_matches_nothing_is_reported_as_ignored(tmp_path, capsys):
    path = write_template(_sample().rows, tmp_path / "t.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(path)
    notes = wb.create_sheet("Guidance")
    notes.append(["Field", "Meaning"])
    notes.append(["Request outcome", "Y, N, A, W or H"])
    wb.save(path)
    assert etl_main(["load", str(path), "--db", str(tmp_path / "a.duckdb")]) == 0
    assert "t.xlsx [Guidance]: sheet ignored: its headings match no known layout" in capsys.readouterr().out


def test_an_empty_file_and_a_header_only_file(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    assert etl_main(["load", str(tmp_path / "empty.csv"), "--db", str(tmp_path / "a.duckdb")]) == 2
    assert "empty.csv" in capsys.readouterr().err
    folder = Blade().write(tmp_path / "x")  # every module file has a header and (but sen2) no rows
    assert etl_main(["load", str(folder), "--db", str(tmp_path / "b.duckdb")]) == 0


def test_a_workbook_written_by_hand_with_floats_and_dates(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "Person"
    ws.append(["Person ID", "Date of birth", "Sex"])
    ws.append([12.0, date(2014, 3, 5), "M"])
    ws2 = wb.create_sheet("Requests")
    ws2.append(["Requests Record ID", "Person ID", "Date request was received", "Request outcome"])
    ws2.append([30.0, 12.0, date(2023, 3, 1), "A"])
    wb.save(tmp_path / "hand.xlsx")
    db = tmp_path / "a.duckdb"
    assert load_paths([tmp_path / "hand.xlsx"], db).exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT request_id, age_at_request FROM request").fetchall() == [("30", 8)]
    con.close()


def test_a_quarantined_row_is_kept_as_read_with_identifiers_pseudonymised(tmp_path):
    import json

    from etl.pseudonymise import pseudonym

    b = Blade()
    b.person(pid=77, birth="2014-02-31")           # impossible birth date: the person row is quarantined
    b.request(77, "2023-03-01", "Q", None, rid=5)  # bad code (and its person is not loaded)
    db = tmp_path / "a.duckdb"
    load_paths([b.write(tmp_path / "x")], db)
    con = duckdb.connect(str(db), read_only=True)
    rows = {m: json.loads(v) for m, v in con.execute("SELECT module, row_values FROM quarantine_row").fetchall()}
    con.close()
    key = bytes.fromhex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
    assert rows["requests"]["requestoutcome"] == "Q" and rows["requests"]["requeststableid"] == "5"
    assert rows["requests"]["persontableid"] == pseudonym("77", key)
    person = rows["person"]
    assert person["persontableid"] == pseudonym("77", key) and person["sex"] == "F"
    for identifier in ("surname", "forename", "personbirthdate", "postcode", "upn", "uniquelearnernumber"):
        assert identifier not in person
    assert "Featherstonehaugh" not in json.dumps(rows) and "2014-Feb-31" not in json.dumps(rows)
