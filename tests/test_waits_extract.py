"""Loading the referral-level waiting-list extract: CSV and XLSX, pseudonymisation, quarantine, replacement."""

from __future__ import annotations

import duckdb
import pytest

from etl.__main__ import main as etl_main
from etl.load import LoadRejected, load_paths
from etl.pseudonymise import pseudonym
from tests.support.waits import HEADER, referral, write_csv, write_xlsx

KEY = bytes.fromhex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
GOOD = [
    referral("NHS9434765919", "SALT", "2023-01-10", seen="2023-03-01"),
    referral("NHS9434765870", "Community paeds", "2023-02-01", age=11),
    referral("NHS9434765870", "neurodevelopmental", "2023-02-03", removed="2023-05-01", reason="Moved away"),
]


def _rows(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_csv_loads_pseudonymised_with_the_person_id_hmac(tmp_path):
    db = tmp_path / "w.duckdb"
    report = load_paths([write_csv(tmp_path / "waits.csv", GOOD)], db)
    assert report.exit_code == 0 and report.files[0].module == "referral"
    rows = _rows(db, "SELECT patient_key, service, referral_date::VARCHAR, first_contact_date::VARCHAR, "
                     "removed_date::VARCHAR, removal_reason, age_years FROM referral ORDER BY referral_date")
    assert rows == [
        (pseudonym("NHS9434765919", KEY), "SALT", "2023-01-10", "2023-03-01", None, None, 4),
        (pseudonym("NHS9434765870", KEY), "COMMUNITY_PAEDS", "2023-02-01", None, None, None, 11),
        (pseudonym("NHS9434765870", KEY), "NEURODEVELOPMENTAL", "2023-02-03", None, "2023-05-01", "Moved away", 4),
    ]
    dump = str(_rows(db, "SELECT * FROM referral")) + str(_rows(db, "SELECT * FROM load_log"))
    assert "NHS9434765919" not in dump and "NHS9434765870" not in dump


def test_xlsx_with_excel_dates_loads_the_same_as_csv(tmp_path):
    csv_db, xlsx_db = tmp_path / "c.duckdb", tmp_path / "x.duckdb"
    load_paths([write_csv(tmp_path / "a" / "waits.csv", GOOD)], csv_db)
    folder = tmp_path / "b"
    write_xlsx(folder / "waits.xlsx", GOOD)
    report = load_paths([folder], xlsx_db)  # a folder: .xlsx files are picked up too
    assert report.exit_code == 0 and report.files[0].path.name == "waits.xlsx"
    q = "SELECT * EXCLUDE (load_id) FROM referral ORDER BY referral_date"
    assert _rows(csv_db, q) == _rows(xlsx_db, q)


def test_bad_rows_are_quarantined_with_file_row_column_reason(tmp_path):
    rows = [
        GOOD[0],
        referral("X2", "DENTAL", "2023-01-10"),                                   # 2 unknown service
        referral("X3", "SALT", "31/02/2023"),                                     # 3 not a date
        referral("X4", "SALT", "2023-03-10", seen="2023-03-01"),                  # 4 contact before referral
        referral("X5", "OT", "2023-03-10", removed="2023-03-01"),                 # 5 removal before referral
        referral("X6", "OT", "2023-03-10", seen="2023-04-10", removed="2023-04-01"),  # 6 removed before contact
        referral("", "OT", "2023-03-10"),                                         # 7 no patient id
        referral("X8", "OT", "2099-01-01"),                                       # 8 future
        referral("X9", "OT", "2023-03-10", age=31),                               # 9 age
        referral("X10", "SALT", "2023-03-10"),                                    # 10, 11 duplicate
        referral("X10", "SALT", "2023-03-10", seen="2023-04-01"),
        referral("X12", "SALT", ""),                                              # 12 no referral date
    ]
    db = tmp_path / "w.duckdb"
    report = load_paths([write_csv(tmp_path / "waits.csv", rows)], db)
    assert report.exit_code == 1
    f = report.files[0]
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (12, 1, 11)
    got = {(p.row, p.column, p.reason) for p in f.problems}
    assert (2, "service", "not a valid service (expected one of SALT, OT, PHYSIO, COMMUNITY_PAEDS, "
            "NEURODEVELOPMENTAL, AUDIOLOGY)") in got
    assert (3, "referral_date", "not a valid date") in got
    assert (4, "first_contact_date", "first contact is dated before the referral") in got
    assert (5, "removed_date", "removal is dated before the referral") in got
    assert (6, "removed_date", "removal is dated before the first contact it follows") in got
    assert (7, "patient_id", "required value is missing") in got
    assert (8, "referral_date", "date is in the future") in got
    assert (9, "age_years", "not a whole number of years from 0 to 25") in got
    assert {r for r, c, _ in got if "duplicate" in _} == {10, 11}
    assert (12, "referral_date", "required value is missing") in got
    stored = _rows(db, "SELECT source_file, module, row_number, column_name, value FROM quarantine ORDER BY 3")
    assert {r[0] for r in stored} == {"waits.csv"} and {r[1] for r in stored} == {"referral"}
    assert not any(v and v.startswith("X") for *_, v in stored)  # patient ids never reach the quarantine
    assert _rows(db, "SELECT count(*) FROM referral") == [(1,)]


def test_missing_column_rejects_the_whole_load(tmp_path):
    header = [h for h in HEADER if h != "removed_date"]
    bad = write_csv(tmp_path / "in" / "waits.csv", [r[:4] + r[5:] for r in GOOD], header)
    write_csv(tmp_path / "in" / "other.csv", GOOD)
    db = tmp_path / "w.duckdb"
    with pytest.raises(LoadRejected) as exc:
        load_paths([bad.parent], db)
    assert "waits.csv" in str(exc.value) and "removed_date" in str(exc.value)
    assert _rows(db, "SELECT count(*) FROM referral") == [(0,)]  # the good file in the same load is not kept


def test_newer_extract_replaces_the_same_referral_and_reload_is_a_no_op(tmp_path):
    db = tmp_path / "w.duckdb"
    first = write_csv(tmp_path / "jan" / "waits.csv", [referral("P1", "SALT", "2023-01-10")])
    load_paths([first], db)
    assert load_paths([first], db).files[0].status == "unchanged"
    later = write_csv(tmp_path / "feb" / "waits.csv", [referral("P1", "SALT", "2023-01-10", seen="2023-02-20"),
                                                      referral("P1", "SALT", "2023-03-01")])  # re-referral
    load_paths([later], db)
    assert _rows(db, "SELECT referral_date::VARCHAR, first_contact_date::VARCHAR FROM referral ORDER BY 1") == [
        ("2023-01-10", "2023-02-20"), ("2023-03-01", None)]


def test_cli_exit_codes_and_one_line_messages(tmp_path, capsys):
    db = tmp_path / "w.duckdb"
    ok = write_csv(tmp_path / "ok.csv", GOOD)
    assert etl_main(["load", str(ok), "--db", str(db)]) == 0
    bad = write_csv(tmp_path / "bad.csv", [referral("Q1", "SALT", "not a date")])
    assert etl_main(["load", str(bad), "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "bad.csv, row 1, column referral_date: not a valid date (value 'not a date')" in out
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    assert etl_main(["load", str(junk), "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert "junk.xlsx" in err and "unknown layout" in err and "Traceback" not in err


def test_same_child_in_sen2_and_the_referral_extract_gets_the_same_pseudonym_from_the_key_file(tmp_path,
                                                                                             monkeypatch):
    from tests.support.blade import Blade

    monkeypatch.delenv("APP_PSEUDONYM_KEY")
    b = Blade()
    pid = b.person(pid=4242)
    b.request(pid, "2023-01-05", "Y", "2023-02-01")
    folder = b.write(tmp_path / "extract")
    write_csv(folder / "referrals.csv", [referral("4242", "SALT", "2023-01-10")])
    db = tmp_path / "db" / "app.duckdb"
    load_paths([folder], db)
    assert (db.parent / "pseudonym.key").exists()
    assert _rows(db, "SELECT count(*) FROM referral r JOIN person p ON p.person_key = r.patient_key") == [(1,)]


def _python_path(monkeypatch):
    from etl.formats import waits_extract

    monkeypatch.setattr(waits_extract, "_fast_header", lambda path, scan: None)


@pytest.mark.parametrize("tail", ["", "\n", ",,, ,\t,,,\n", "X20,OT,2023-03-10,,,,4,north,extra\n",
                                  "\nX21,OT,2023-03-10,,,,4,north\n"])
def test_duckdb_and_python_paths_of_a_referral_csv_load_the_same(tmp_path, monkeypatch, tail):
    """The DuckDB fast path (clean UTF-8 CSV) and the Python path give the same rows, row numbers and problems;
    a blank line or a ragged row sends the file to the Python path, which counts and reports them as before."""
    rows = [GOOD[0], referral("X2", "DENTAL", "2023-01-10"), referral("", "OT", "2023-03-10"),
            referral(" X4 ", " salt ", "2023-03-10", seen="2023-03-01"), GOOD[1]]
    path = write_csv(tmp_path / "waits.csv", rows)
    path.write_text(path.read_text() + tail)
    out = {}
    for way in ("fast", "python"):
        if way == "python":
            _python_path(monkeypatch)
        db = tmp_path / f"{way}.duckdb"
        f = load_paths([path], db).files[0]
        out[way] = ((f.rows_read, f.rows_loaded, f.rows_quarantined), [vars(p) for p in f.problems],
                    _rows(db, "SELECT * EXCLUDE (load_id) FROM referral ORDER BY ALL"),
                    _rows(db, "SELECT * EXCLUDE (load_id) FROM quarantine ORDER BY ALL"))
    assert out["fast"] == out["python"]
    assert out["fast"][0][2] >= 3


def test_a_referral_csv_whose_lines_end_two_ways_loads_every_row(tmp_path):
    """One CR LF line in an LF file stops DuckDB's strict reader: the extract takes the Python path."""
    path = write_csv(tmp_path / "waits.csv", GOOD)
    lines = path.read_bytes().replace(b"\r\n", b"\n").split(b"\n")
    lines[1] += b"\r"
    path.write_bytes(b"\n".join(lines))
    report = load_paths([path], tmp_path / "app.duckdb")
    assert (report.files[0].rows_read, report.files[0].rows_quarantined) == (len(GOOD), 0)


@pytest.mark.parametrize("where", ["ending the file", "inside a cell"])
def test_a_referral_csv_with_a_carriage_return_alone_loads_and_loses_nothing(tmp_path, where):
    """A CR not followed by LF stopped DuckDB's strict reader and with it the whole load ("CSV Parser state machine
    reached an invalid state"). The extract takes the Python path, which reads a lone CR as a line end, as a
    spreadsheet does: a CR inside a cell splits its row, and the split-off part is quarantined and shown."""
    path = write_csv(tmp_path / "waits.csv", GOOD)
    data = path.read_bytes().replace(b"\r\n", b"\n")
    if where == "ending the file":
        data = data.rstrip(b"\n") + b"\r"
    else:
        lines = data.split(b"\n")
        lines[2] = lines[2][:-2] + b"\r" + lines[2][-2:]  # two characters before the end of the second row
        data = b"\n".join(lines)
    path.write_bytes(data)
    f = load_paths([path], tmp_path / "app.duckdb").files[0]
    split = where == "inside a cell"
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (len(GOOD) + split, len(GOOD), int(split))
    assert {p.row for p in f.problems} == ({3} if split else set())


def test_empty_lines_and_rows_of_empty_cells_are_numbered_alike_on_both_paths(tmp_path, monkeypatch):
    """As in the SEN2 extracts: an empty line is not a row, a row of empty cells is (and is not loaded)."""
    path = tmp_path / "waits.csv"
    lines = write_csv(path, GOOD[:2]).read_text().splitlines()
    bad = referral("X9", "DENTAL", "2023-01-10")  # a service not offered: quarantined
    path.write_text("\n".join([lines[0], lines[1], "", ",,,,,,,", lines[2], ",".join(bad)]) + "\n")
    seen = {}
    for way in ("fast", "python"):
        if way == "python":
            _python_path(monkeypatch)
        f = load_paths([path], tmp_path / f"{way}.duckdb").files[0]
        seen[way] = (f.rows_read, [(p.row, p.column) for p in f.problems])
    assert seen["fast"] == seen["python"] == (3, [(4, "service")])
