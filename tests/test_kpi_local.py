"""KPIs from the local extracts, on hand-built files whose answers are known, boundaries included."""

from __future__ import annotations

import math

import duckdb
import pytest

from etl.__main__ import main as etl_main
from etl.load import load_paths
from etl.pseudonymise import pseudonym
from kpi.engine.series import kpi_series, open_readonly
from tests.support.blade import Blade
from tests.support.local_extracts import ADVICE, AUDITS, PLACEMENT, REDUCED, RETURNS, write

KEY = bytes.fromhex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")

def sen2(folder):
    """A SEN2 extract whose events span January to June 2023 (the data window), people 101 and 102."""
    b = Blade()
    b.person(pid=101)
    b.person(pid=102)
    b.request(101, "2023-01-05", "Y", "2023-06-20", rid=900)
    return b.write(folder)


def series(tmp_path, files: dict, kpi_id: str):
    folder = sen2(tmp_path / "extract")
    for name, (header, rows) in files.items():
        write(folder / name, header, rows)
    db = tmp_path / "app.duckdb"
    report = load_paths([folder], db)
    assert report.exit_code == 0, [str(p) for f in report.files for p in f.problems]
    from kpi import definitions

    con = open_readonly(db)
    try:
        df = kpi_series(con, definitions.load(), [kpi_id])
    finally:
        con.close()
    return df.set_index("period")


def _v(df, period, col="value"):
    v = df.loc[period, col]
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)


def test_advice_within_6_weeks_counts_42_days_as_in_time_and_43_as_late(tmp_path):
    rows = [
        ["A1", "101", "EP", "2023-03-01", "2023-04-12"],    # 42 days: in time
        ["A2", "101", "EP", "2023-03-01", "2023-04-13"],    # 43 days: late
        ["A3", "102", "HEALTH", "2023-03-01", "2023-04-13"],  # another giver: not in the EP KPI
        ["A4", "102", "EP", "2023-04-01", ""],               # awaited: not counted anywhere yet
        ["A5", "102", "EP", "2023-02-01", "2023-02-20"],     # February: 1 of 1
    ]
    df = series(tmp_path, {"advice.csv": (ADVICE, rows)}, "advice_6wk_ep")
    assert (_v(df, "2023-04", "numerator"), _v(df, "2023-04", "denominator"), _v(df, "2023-04")) == (1, 2, 50.0)
    assert _v(df, "2023-02") == 100.0
    assert _v(df, "2023-03") is None and _v(df, "2023-03", "denominator") == 0  # no advice received: no value
    health = series(tmp_path / "h", {"advice.csv": (ADVICE, rows)}, "advice_6wk_health")
    assert _v(health, "2023-04") == 0.0 and _v(health, "2023-04", "denominator") == 1


def test_social_care_advice_is_its_own_kpi_and_codes_are_read_as_written(tmp_path):
    rows = [["S1", "101", "Social care", "2023-02-01", "2023-03-01"],
            ["S2", "101", "social_care", "2023-02-01", "2023-03-20"]]
    df = series(tmp_path, {"advice.csv": (ADVICE, rows)}, "advice_6wk_social_care")
    assert (_v(df, "2023-03", "numerator"), _v(df, "2023-03", "denominator")) == (1, 2)


def test_audit_grades_good_or_outstanding_and_inadequate(tmp_path):
    rows = [
        ["Q1", "101", "2023-03-02", "EDUCATION", "Outstanding", "9", "NEW"],
        ["Q2", "101", "2023-03-09", "HEALTH", "Good", "7", "AMENDED"],
        ["Q3", "102", "2023-03-16", "MULTI_AGENCY", "Requires Improvement", "5", "NEW"],
        ["Q4", "102", "2023-03-31", "PARENT", "Inadequate", "", "NEW"],   # score is optional
        ["Q5", "102", "2023-04-01", "SOCIAL_CARE", "Good", "6.5", "NEW"],  # April
    ]
    files = {"audits.csv": (AUDITS, rows)}
    good = series(tmp_path, files, "ehcp_audit_good")
    assert _v(good, "2023-03") == 50.0 and _v(good, "2023-04") == 100.0 and _v(good, "2023-05") is None
    bad = series(tmp_path / "b", files, "ehcp_audit_inadequate")
    assert _v(bad, "2023-03") == 25.0 and _v(bad, "2023-04") == 0.0


def test_awaiting_placement_is_a_month_end_count(tmp_path):
    rows = [
        ["101", "2023-03-10", "2023-03-31", "Special school"],  # placed on the month end: not waiting then
        ["102", "2023-03-10", "2023-04-01", "Special school"],  # waiting at the end of March only
        ["103", "2023-04-30", "", "Resourced provision"],       # waiting from April, still waiting
    ]
    df = series(tmp_path, {"placements.csv": (PLACEMENT, rows)}, "awaiting_placement")
    assert [_v(df, p) for p in ("2023-02", "2023-03", "2023-04", "2023-05", "2023-06")] == [0, 1, 1, 1, 1]


def test_awaiting_placement_has_no_values_when_the_extract_was_never_loaded(tmp_path):
    df = series(tmp_path, {}, "awaiting_placement")
    assert df["value"].isna().all()


def test_reduced_timetable_counts_the_end_date_as_a_day_on_it(tmp_path):
    rows = [
        ["101", "2023-03-01", "2023-03-31", "10"],  # last day 31 March: on it at the end of March
        ["102", "2023-04-01", "", "15"],            # ongoing from April
        ["103", "2023-04-03", "2023-04-29", ""],    # within April only
    ]
    df = series(tmp_path, {"rt.csv": (REDUCED, rows)}, "reduced_timetable")
    assert [_v(df, p) for p in ("2023-02", "2023-03", "2023-04", "2023-05")] == [0, 1, 1, 1]


def test_kpi_returns_feed_the_kpi_declared_as_sourced_from_returns(tmp_path):
    rows = [
        ["ehcp_pupil_attendance", "2023-02", "", "", "87.5", "Spring 1"],
        ["ehcp_pupil_attendance", "2023-03", "880", "1000", "", "computed from counts"],
        ["some_other_teams_kpi", "2023-03", "1", "2", "50", "not declared: stored, not shown"],
    ]
    df = series(tmp_path, {"returns.csv": (RETURNS, rows)}, "ehcp_pupil_attendance")
    assert _v(df, "2023-02") == 87.5 and _v(df, "2023-03") == 88.0 and _v(df, "2023-04") is None
    assert set(df.index) >= {"2023-01", "2023-06"}


def test_local_person_ids_link_to_the_same_pseudonyms_as_sen2(tmp_path):
    folder = sen2(tmp_path / "x")
    write(folder / "advice.csv", ADVICE, [["A1", "101", "EP", "2023-03-01", "2023-03-20"]])
    db = tmp_path / "a.duckdb"
    load_paths([folder], db)
    con = duckdb.connect(str(db), read_only=True)
    advice_key = con.execute("SELECT person_key FROM advice_request").fetchone()[0]
    person_keys = {r[0] for r in con.execute("SELECT person_key FROM person").fetchall()}
    text = str(con.execute("SELECT * FROM advice_request").fetchall())
    con.close()
    assert advice_key == pseudonym("101", KEY) and advice_key in person_keys
    assert "'101'" not in text


def test_bad_local_rows_are_quarantined_with_reasons(tmp_path, capsys):
    folder = tmp_path / "x"
    write(folder / "audits.csv", AUDITS, [
        ["Q1", "101", "2023-03-02", "EDUCATION", "Good", "11", "NEW"],        # score over 10
        ["Q2", "101", "2023-03-02", "OFSTED", "Good", "7", "NEW"],            # unknown auditor
        ["Q2", "101", "2023-03-02", "HEALTH", "Great", "7", "NEW"],           # duplicate id, unknown grade
    ])
    write(folder / "advice.csv", ADVICE, [["A1", "101", "EP", "2023-03-01", "2023-02-01"]])  # before requested
    write(folder / "rt.csv", REDUCED, [["101", "2023-03-01", "", "50"], ["101", "2023-03-01", "", "5"]])
    write(folder / "returns.csv", RETURNS, [["ehcp_pupil_attendance", "2023-13", "", "", "", ""]])
    db = tmp_path / "a.duckdb"
    assert etl_main(["load", str(folder), "--db", str(db)]) == 1
    con = duckdb.connect(str(db), read_only=True)
    q = con.execute("SELECT module, row_number, column_name, reason FROM quarantine").fetchall()
    con.close()
    reasons = {(m, r, c): why for m, r, c, why in q}
    assert "between 0 and 10" in reasons[("ehcp_audits", 1, "score")]
    assert "not a valid code" in reasons[("ehcp_audits", 2, "auditor")]
    assert "not a valid code" in reasons[("ehcp_audits", 3, "grade")]
    assert "duplicate key" in reasons[("ehcp_audits", 3, "audit_id")]
    assert "before it was requested" in reasons[("advice_requests", 1, "received_date")]
    assert "between 0 and 40" in reasons[("reduced_timetables", 1, "hours_per_week")]
    assert "duplicate key" in reasons[("reduced_timetables", 2, "person_id, start_date")]
    assert "YYYY-MM" in reasons[("kpi_returns", 1, "period")]
    assert "a value or a numerator" in reasons[("kpi_returns", 1, "value")]


def test_extra_columns_in_a_local_extract_are_ignored_with_a_warning(tmp_path, capsys):
    folder = sen2(tmp_path / "x")
    write(folder / "advice.csv", [*ADVICE, "caseworker"], [["A1", "101", "EP", "2023-03-01", "2023-03-20", "Jo"]])
    db = tmp_path / "a.duckdb"
    assert etl_main(["load", str(folder), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "warning: advice.csv, column caseworker: column is not part of the advice_requests layout" in out
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT column_name FROM load_warning").fetchall() == [("caseworker",)]
    assert "Jo" not in str(con.execute("SELECT * FROM advice_request").fetchall())
    con.close()


def test_a_local_extract_missing_a_required_column_is_rejected(tmp_path, capsys):
    path = write(tmp_path / "audits.csv", [c for c in AUDITS if c != "grade"],
                 [["Q1", "101", "2023-03-02", "EDUCATION", "7", "NEW"]])
    assert etl_main(["load", str(path), "--db", str(tmp_path / "a.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "audits.csv" in err and "grade" in err and "required column" in err


@pytest.mark.parametrize("suffix", [".xlsx"])
def test_local_extracts_load_from_a_workbook_too(tmp_path, suffix):
    from openpyxl import Workbook

    folder = sen2(tmp_path / "x")
    wb = Workbook()
    ws = wb.active
    ws.title = "Placements"
    ws.append(PLACEMENT)
    ws.append([101.0, "2023-03-10", None, "Special school"])
    wb.save(folder / f"placements{suffix}")
    db = tmp_path / "a.duckdb"
    assert load_paths([folder], db).exit_code == 0
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT person_key, need_date::VARCHAR FROM placement_need").fetchall() == [
        (pseudonym("101", KEY), "2023-03-10")]
    con.close()
