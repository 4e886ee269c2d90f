"""NHS England CHS waiting-list workbooks: every release bundled in data/published/nhs_chs, and hand-built cases.

Expected figures were read from the workbooks with openpyxl (cell by cell, Table 4 and the band tables).
"""

from __future__ import annotations

import csv
import io
import json
import math

import duckdb
import openpyxl
import pytest

from etl.load import LoadRejected, load_paths
from kpi.__main__ import main as kpi_main
from kpi.engine.nhs_waits import nhs_summary
from tests.support.nhs import workbook
from tests.support.published import PUBLISHED_DATA

SALT = "(cyp) therapy interventions: speech and language"
KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


@pytest.fixture(scope="session")
def nhs_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("nhs") / "nhs.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APP_PSEUDONYM_KEY", KEY)
        report = load_paths([PUBLISHED_DATA / "nhs_chs"], db)
    assert report.exit_code == 0 and len(report.files) == 11
    return db


def _q(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _value(db, period, org_code, band, service=SALT):
    rows = _q(db, "SELECT value, marker FROM nhs_chs_wait WHERE period = ? AND org_code = ? AND band = ? "
                  "AND service_key = ?", [period, org_code, band, service])
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.slow  # all eleven NHS workbooks loaded once (~20 s)
def test_data_months_come_from_the_titles_not_the_file_names(nhs_db):
    got = _q(nhs_db, "SELECT DISTINCT strftime(period, '%Y-%m'), source_file FROM nhs_chs_wait ORDER BY 1")
    assert got[0] == ("2023-01", "published_2023-03.xlsx")
    assert got[1] == ("2023-02", "published_2023-04.xlsx")  # titles without a month: read from Contents
    assert got[-2] == ("2023-10", "published_2023-12.xlsx")
    assert got[-1] == ("2025-10", "published_2025-12.xlsx")
    assert len(got) == 11


@pytest.mark.slow  # all eleven NHS workbooks loaded once (~20 s)
def test_england_cyp_salt_exact_figures(nhs_db):
    eng = "E92000001"
    assert _value(nhs_db, "2023-01-01", eng, "total") == (67774, None)
    assert _value(nhs_db, "2023-01-01", eng, ">52") == (2980, None)
    assert _value(nhs_db, "2023-01-01", eng, ">18-52") == (20810, None)
    assert _value(nhs_db, "2023-02-01", eng, "total") == (65871, None)
    assert _value(nhs_db, "2023-02-01", eng, ">52") == (2342, None)
    assert _value(nhs_db, "2023-10-01", eng, "total") == (67790, None)
    assert _value(nhs_db, "2023-10-01", eng, ">52") == (4113, None)
    # current layout: over 52 weeks split into 52–104 and over 104
    assert _value(nhs_db, "2025-10-01", eng, "total") == (61845, None)
    assert _value(nhs_db, "2025-10-01", eng, ">52-104") == (4053, None)
    assert _value(nhs_db, "2025-10-01", eng, ">104") == (999, None)
    bands = {b for (b,) in _q(nhs_db, "SELECT DISTINCT band FROM nhs_chs_wait WHERE period = '2025-10-01'")}
    assert ">52" not in bands and {">52-104", ">104"} <= bands
    bands23 = {b for (b,) in _q(nhs_db, "SELECT DISTINCT band FROM nhs_chs_wait WHERE period = '2023-01-01'")}
    assert bands23 == {"total", "0-1", ">1-2", ">2-4", ">4-12", ">12-18", ">18-52", ">52"}


@pytest.mark.slow  # all eleven NHS workbooks loaded once (~20 s)
def test_band_sums_that_differ_from_the_total_are_kept_with_a_flag(nhs_db):
    # England, Jan 2023: bands 3794 + 3763 + 6847 + 18253 + 10952 + 20810 + 2980 = 67399, total 67774
    (flag,) = _q(nhs_db, "SELECT bands_differ FROM nhs_chs_wait WHERE period = '2023-01-01' "
                         "AND org_code = 'E92000001' AND band = 'total' AND service_key = ?", [SALT])[0:1][0]
    assert flag is True
    (band_sum,) = _q(nhs_db, "SELECT sum(value) FROM nhs_chs_wait WHERE period = '2023-01-01' "
                             "AND org_code = 'E92000001' AND band <> 'total' AND service_key = ?", [SALT])[0]
    assert band_sum == 67399
    # East of England, Jan 2023: 327 + 447 + 548 + 1883 + 825 + 1936 + 151 = 6117 = the total
    (flag,) = _q(nhs_db, "SELECT bands_differ FROM nhs_chs_wait WHERE period = '2023-01-01' AND org_code = 'Y61' "
                         "AND band = 'total' AND service_key = ?", [SALT])[0]
    assert flag is False


@pytest.mark.slow  # all eleven NHS workbooks loaded once (~20 s)
def test_codes_filled_by_name_from_later_releases(nhs_db):
    # Jan 2023 has no code column; RYV and the region code come from the October 2023+ releases by name.
    assert _value(nhs_db, "2023-01-01", "RYV", "total") == (2576, None)
    assert _value(nhs_db, "2023-01-01", "RYV", ">52") == (116, None)
    assert _value(nhs_db, "2023-01-01", "Y61", "total") == (6117, None)  # 'East of England' ~ 'EAST OF ENGLAND'
    src = _q(nhs_db, "SELECT DISTINCT org_code_source FROM nhs_chs_wait WHERE org_code = 'RYV' "
                     "AND period < '2023-08-01'")
    assert src == [("name_match",)]
    # the old layout names the organisation type only on a group's first row: carried down
    types = _q(nhs_db, "SELECT DISTINCT org_type FROM nhs_chs_wait WHERE org_code IN ('RYV', 'QUE', 'Y61') "
                       "AND period = '2023-01-01' ORDER BY 1")
    assert types == [("ICB",), ("Provider",), ("Region",)]


@pytest.mark.slow  # all eleven NHS workbooks loaded once (~20 s)
def test_blank_is_not_submitted_and_star_is_suppressed(nhs_db):
    assert _value(nhs_db, "2023-01-01", "QHG", "total") == (None, "not_submitted")  # BLMK ICB: RYV reports under QUE
    assert _value(nhs_db, "2023-01-01", "Y61", "total", "(cyp) safeguarding") == (None, "suppressed")


@pytest.mark.slow  # all eleven NHS workbooks loaded once (~20 s)
def test_service_names_take_the_latest_capitalisation(nhs_db):
    names = _q(nhs_db, "SELECT DISTINCT service FROM nhs_chs_wait WHERE service_key = ?", [SALT])
    assert names == [("(CYP) Therapy interventions: Speech and language",)]  # Jan 2023 wrote "speech and language"
    assert _q(nhs_db, "SELECT count(DISTINCT period) FROM nhs_chs_wait WHERE service_key = ?", [SALT]) == [(11,)]


@pytest.mark.slow  # all eleven NHS workbooks loaded once (~20 s)
def test_summary_for_the_page(nhs_db):
    con = duckdb.connect(str(nhs_db), read_only=True)
    try:
        s = nhs_summary(con, "RYV", "SALT").set_index("period")
        assert nhs_summary(con, "RYV", "NEURODEVELOPMENTAL").empty  # no NHS line for it
    finally:
        con.close()
    jan = s.loc["2023-01"]
    assert (jan["total"], jan["over_18wk"], jan["over_52wk"]) == (2576, 1063 + 116, 116)
    assert jan["pct_over_18wk"] == pytest.approx(100 * 1179 / 2576)
    assert s.loc["2025-10", "over_52wk"] == _value(nhs_db, "2025-10-01", "RYV", ">52-104")[0] + 0  # >104 is 0


@pytest.mark.slow  # all eleven NHS workbooks loaded once (~20 s)
def test_cli_nhs_waits(nhs_db, capsys):
    assert kpi_main(["nhs-waits", "--db", str(nhs_db), "--org", "ryv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"period", "org_code", "org_name", "service", "band", "value"} <= set(rows[0])
    assert {r["org_code"] for r in rows} == {"RYV"}
    jan = next(r for r in rows if r["period"] == "2023-01" and r["band"] == ">52"
               and r["service"] == "(CYP) Therapy interventions: Speech and language")
    assert jan["value"] == "116"
    blank = next(r for r in rows if r["marker"] == "not_submitted")
    assert blank["value"] == ""
    assert kpi_main(["nhs-waits", "--db", str(nhs_db), "--org", "England", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    oct25 = [r for r in data if r["period"] == "2025-10" and r["service"].lower() == SALT]
    assert {r["band"]: r["value"] for r in oct25}[">104"] == 999


@pytest.mark.slow  # all eleven NHS workbooks loaded once (~20 s)
def test_cli_errors_are_one_line(nhs_db, tmp_path, capsys):
    assert kpi_main(["nhs-waits", "--db", str(nhs_db), "--org", "NOPE"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no organisation 'NOPE'") and "\n" not in err
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert kpi_main(["nhs-waits", "--db", str(empty)]) == 2
    assert "holds no NHS CHS waiting-list data" in capsys.readouterr().err
    assert kpi_main(["nhs-waits", "--db", str(tmp_path / "missing.duckdb")]) == 2


# --- hand-built workbooks: the rules without the real files ---------------------------------------------

def test_hand_built_quarantine_and_month_from_contents(tmp_path):
    db = tmp_path / "h.duckdb"
    path = workbook(tmp_path / "wb.xlsx", month_in_titles=False, cell="twelve")
    report = load_paths([path], db)
    assert report.exit_code == 1
    (p,) = report.files[0].problems
    assert (p.file, p.row, p.column, p.value) == ("wb.xlsx", 4, "Table 4: (CYP) Audiology", "twelve")
    assert p.reason == "not a count, a blank (not submitted) or * (suppressed)"
    assert _q(db, "SELECT DISTINCT period::VARCHAR FROM nhs_chs_wait") == [("2023-01-01",)]
    assert _q(db, "SELECT row_number, column_name FROM quarantine") == [(4, "Table 4: (CYP) Audiology")]


def test_hand_built_no_month_rejects_and_reload_replaces(tmp_path):
    db = tmp_path / "h.duckdb"
    with pytest.raises(LoadRejected) as exc:
        load_paths([workbook(tmp_path / "a.xlsx", month_in_titles=False, contents=False)], db)
    assert "no data month" in str(exc.value)
    load_paths([workbook(tmp_path / "b.xlsx", cell="12")], db)
    later = workbook(tmp_path / "c.xlsx", cell="15", code_column=True)  # a revised January, newer layout
    load_paths([later], db)
    rows = _q(db, "SELECT org_code, org_code_source, value, marker, bands_differ FROM nhs_chs_wait "
                  "WHERE band = 'total' AND service_key = '(cyp) audiology' ORDER BY org_code")
    assert rows == [("E92000001", "national", 15.0, None, True), ("RYV", "published", 5.0, None, False)]
    suppressed = _q(db, "SELECT value, marker, bands_differ FROM nhs_chs_wait WHERE org_code = 'E92000001' "
                        "AND service_key = ? ORDER BY band", [SALT])
    assert suppressed == [(None, "suppressed", None), (None, "not_submitted", None)]  # '>52' then 'total'
    assert not any(math.isnan(v) for (v,) in _q(db, "SELECT value FROM nhs_chs_wait WHERE value IS NOT NULL"))


def test_hand_built_tables_with_different_months_reject_and_unknown_workbooks_are_named(tmp_path):
    path = workbook(tmp_path / "mixed.xlsx")
    wb = openpyxl.load_workbook(path)
    wb["Table 4g"]["B1"] = "Number waiting over 52 weeks (over 365 days) by service, February 2023"
    wb.save(path)
    with pytest.raises(LoadRejected) as exc:
        load_paths([path], tmp_path / "h.duckdb")
    assert "different data months" in str(exc.value) and "Table 4g: February 2023" in str(exc.value)
    other = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["name", "score"])
    wb.save(other)
    with pytest.raises(LoadRejected) as exc:
        load_paths([other], tmp_path / "h.duckdb")
    assert "other.xlsx: unknown layout: the workbook matches no known layout" in str(exc.value)
