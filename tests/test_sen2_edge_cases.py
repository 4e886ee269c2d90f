"""SEN2 edge cases on hand-built extracts (issue 14 §4: what one extract can and cannot tell):
historical (H) requests still being assessed, a second issued assessment on one request, a blank week20, and the
rolling mean weeks-to-issue across a month with no plans."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from tests.blade import Blade, blade_date


def _extend_to(b: Blade, day: str) -> None:
    """The extract dated ``day`` (its SEN2 header), with a request pending on it: the month spine runs to it."""
    b.rows["sen2"][0]["referencedate"] = blade_date(day)
    b.request(b.person(), day, "A", None)


# --- 1. historical requests in the assessment backlog --------------------------------------------------------

def test_historical_request_still_being_assessed_is_in_the_backlog(series_of):
    b = Blade()
    # Two requests received 2022-11-01, one H (decided before the return's period), one Y: both still open.
    b.assessment(b.request(b.person(), "2022-11-01", "H", "2022-11-20"), "A", None)
    b.assessment(b.request(b.person(), "2022-11-01", "Y", "2022-11-20"), "A", None)
    _extend_to(b, "2023-04-03")
    s = series_of(b, "ehcna_open_over_20wk")
    # Day 141 after 2022-11-01 is 2023-03-22: over 20 weeks at the end of March, not February.
    assert s.loc["2023-02", "value"] == 0
    assert s.loc["2023-03", "value"] == 2


def test_historical_request_without_a_decision_date_starts_on_day_141(series_of):
    b = Blade()
    # No request outcome date and no assessment row yet: open, counted from day 141 (2023-03-22).
    b.request(b.person(), "2022-11-01", "H", None)
    # Historical request whose plan was issued: closed on the issue date.
    r = b.request(b.person(), "2022-11-01", "H", None)
    b.plan(b.assessment(r, "Y", "2023-04-10"), "2023-04-10")
    # Historical request with a historical assessment outcome (decided before the period): never open.
    b.assessment(b.request(b.person(), "2022-11-01", "H", None), "H", None)
    b.assessment(b.request(b.person(), "2022-11-01", "H", None), "H", "2022-12-01")
    b.request(b.person(), "2022-11-01", "N", "2022-12-01")  # a flow request: the window starts in November
    _extend_to(b, "2023-06-03")  # May complete: its month-end count exists
    s = series_of(b, "ehcna_open_over_20wk")
    assert s.loc["2023-02", "value"] == 0
    assert s.loc["2023-03", "value"] == 2
    assert s.loc["2023-04", "value"] == 1
    assert s.loc["2023-05", "value"] == 1


# --- 2. one request, one first plan --------------------------------------------------------------------------

def _double_issue() -> Blade:
    b = Blade()
    p = b.person()
    r = b.request(p, "2023-01-02", "Y", "2023-02-01")
    # First issued on day 58 (within 20 weeks), then a second outcome-Y record 200 days in (data-quality problem).
    b.plan(b.assessment(r, "Y", "2023-03-01"), "2023-03-01")
    b.assessment(r, "Y", "2023-07-21")
    b.issued_plan("2023-01-02", "2023-07-10")  # another request: 189 days
    return b


def test_a_second_issued_assessment_is_not_counted_again_in_the_20_week_measures(series_of):
    b = _double_issue()
    for kpi in ("ehcp_20wk_excl", "ehcp_20wk_incl"):
        s = series_of(b, kpi)
        assert (s.loc["2023-03", "numerator"], s.loc["2023-03", "denominator"]) == (1, 1)
        assert (s.loc["2023-07", "numerator"], s.loc["2023-07", "denominator"]) == (0, 1), kpi
        assert s["denominator"].sum() == 2


def test_weeks_to_issue_counts_the_first_issued_plan_only(series_of):
    s = series_of(_double_issue(), "ehcp_weeks_to_issue")
    assert s.loc["2023-03", "value"] == pytest.approx(58 / 7)
    assert s.loc["2023-07", "denominator"] == 1
    assert s.loc["2023-07", "value"] == pytest.approx(189 / 7)


def test_same_day_double_issue_counts_the_lowest_record_id(series_of):
    b = Blade()
    r = b.request(b.person(), "2023-01-02", "Y", "2023-02-01")
    b.assessment(r, "Y", "2023-07-21", week20=1, aid=900)   # exception applies
    b.assessment(r, "Y", "2023-07-21", week20=0, aid=1000)  # 1000 > 900 numerically (not as text)
    excl = series_of(b, "ehcp_20wk_excl")
    incl = series_of(b, "ehcp_20wk_incl")
    assert excl.loc["2023-07", "denominator"] == 0  # the plan counted is 900's, with its exception
    assert incl.loc["2023-07", "denominator"] == 1


# --- 3. a blank week20 is unknown ----------------------------------------------------------------------------

def test_blank_week20_is_counted_including_exceptions_and_left_out_excluding_them(series_of):
    b = Blade()
    b.issued_plan("2023-01-02", "2023-03-01")              # week20 = 0
    b.issued_plan("2023-01-02", "2023-03-10", week20="")   # blank: unknown
    b.issued_plan("2023-01-02", "2023-03-15", week20=1)
    excl = series_of(b, "ehcp_20wk_excl")
    incl = series_of(b, "ehcp_20wk_incl")
    assert (excl.loc["2023-03", "numerator"], excl.loc["2023-03", "denominator"]) == (1, 1)
    assert (incl.loc["2023-03", "numerator"], incl.loc["2023-03", "denominator"]) == (3, 3)


# --- 4. the rolling mean weeks-to-issue across a month with no plans ------------------------------------------

def test_rolling_mean_weeks_to_issue_survives_a_month_with_no_plans(series_of):
    b = Blade()
    for m in range(1, 13):  # a plan issued every month of 2023 except June, 70 days after its request
        if m != 6:
            issued = date(2023, m, 20)
            b.issued_plan((issued - timedelta(days=70)).isoformat(), issued.isoformat())
    s = series_of(b, "ehcp_weeks_to_issue")
    assert s.loc["2023-06", "denominator"] == 0
    assert s.loc["2023-06", "numerator"] == 0
    assert math.isnan(s.loc["2023-06", "value"])
    # The window starts in November 2022 (the first request): 12 months first complete at October 2023, and
    # June's empty month does not blank the rolling value of the 12 months that hold it.
    assert math.isnan(s.loc["2023-09", "rolling_12m"])
    for month in ("2023-10", "2023-11", "2023-12"):
        assert not math.isnan(s.loc[month, "rolling_12m"])
    dec = s.loc["2023-01":"2023-12"]
    assert s.loc["2023-12", "rolling_12m"] == pytest.approx(dec["numerator"].sum() / dec["denominator"].sum())


def test_every_layout_keeps_a_blank_week20_as_unknown(tmp_path):
    """Blade CSV, the DfE Excel template and human-heading module CSVs: a blank week20 is NULL, never FALSE."""
    import duckdb

    from demo.sen2_layouts import write_module_csvs, write_template
    from etl.load import load_paths

    b = Blade()
    b.issued_plan("2023-01-02", "2023-03-01", week20=0)
    b.issued_plan("2023-01-02", "2023-03-02", week20="")
    b.issued_plan("2023-01-02", "2023-03-03", week20=" ")
    b.issued_plan("2023-01-02", "2023-03-04", week20=1)
    paths = {"blade": b.write(tmp_path / "blade"),
             "xlsx": write_template(b.rows, tmp_path / "template" / "SEN2 return.xlsx")}
    write_module_csvs(b.rows, tmp_path / "modules")
    paths["csv"] = tmp_path / "modules"
    for name, path in paths.items():
        db = tmp_path / f"{name}.duckdb"
        assert load_paths([path], db).exit_code == 0
        con = duckdb.connect(str(db), read_only=True)
        try:
            got = con.execute("SELECT assessment_outcome_date, week20_exception FROM assessment ORDER BY 1").fetchall()
        finally:
            con.close()
        assert [w for _, w in got] == [False, None, None, True], name


def test_data_quality_lists_double_issues_and_blank_week20(build_db):
    from kpi.engine.data_quality import quality_report
    from kpi.engine.series import open_readonly

    b = _double_issue()
    b.issued_plan("2023-01-02", "2023-03-10", week20="")
    b.assessment(b.request(b.person(), "2023-01-02", "Y", "2023-02-01"), "N", "2023-04-01", week20="")
    b.assessment(b.request(b.person(), "2022-11-01", "H", None), "A", None)
    con = open_readonly(build_db(b))
    try:
        report = quality_report(con)
    finally:
        con.close()
    got = dict(zip(report.record_checks["Check"], report.record_checks["Records"], strict=True))
    assert got["Requests with more than one issued plan (a second assessment outcome Y on the same request)"] == 1
    assert got["Issued plans with a blank week20 (exception unknown)"] == 1
    assert got["Decisions not to issue with a blank week20 (exception unknown)"] == 1
    assert got["Historical requests (outcome H) with no final assessment outcome"] == 1
    assert got["Phase-transfer due dates other than 15 February or 31 March"] == 0
    assert report.record_warnings == 4


# --- 6. new KPIs ---------------------------------------------------------------------------------------------

def test_phase_transfer_finalised_on_or_before_the_due_date(series_of):
    b = Blade()
    on_time = b.issued_plan("2021-01-04", "2021-05-03")
    b.phase_transfer(on_time, "2023-02-15", "2023-02-15")  # on the day: met
    early = b.issued_plan("2021-01-04", "2021-05-03")
    b.phase_transfer(early, "2023-02-15", "2023-01-20")
    b.phase_transfer(early, "2023-02-15", "2023-01-20", meeting="2022-11-01")  # the same transfer again: once
    late = b.issued_plan("2021-01-04", "2021-05-03")
    b.phase_transfer(late, "2023-02-15", "2023-02-16")  # a day late
    missing = b.issued_plan("2021-01-04", "2021-05-03")
    b.phase_transfer(missing, "2023-02-15", None)  # still not final after its due date: not met
    post16 = b.issued_plan("2021-01-04", "2021-05-03")
    b.phase_transfer(post16, "2023-03-31", "2023-03-31")  # post-16: 31 March
    pending = b.issued_plan("2021-01-04", "2021-05-03")
    b.phase_transfer(pending, "2023-06-15", None)  # due after the extract's date: not yet counted
    _extend_to(b, "2023-06-10")
    s = series_of(b, "phase_transfer_by_deadline")
    assert (s.loc["2023-02", "numerator"], s.loc["2023-02", "denominator"]) == (2, 4)
    assert s.loc["2023-02", "value"] == pytest.approx(50.0)
    assert (s.loc["2023-03", "numerator"], s.loc["2023-03", "denominator"]) == (1, 1)
    assert s.loc["2023-06", "denominator"] == 0 and math.isnan(s.loc["2023-06", "value"])


def test_not_issue_16wk_excluding_exceptions(series_of):
    b = Blade()
    for days, week20 in ((112, 0), (113, 0), (100, 1), (150, 1), (90, ""), (120, "")):
        r = b.request(b.person(), "2023-01-02", "Y", "2023-02-01")
        b.assessment(r, "N", (date(2023, 1, 2) + timedelta(days=days)).isoformat(), week20=week20)
    incl = series_of(b, "not_issue_16wk")
    excl = series_of(b, "not_issue_16wk_excl")
    assert incl.loc["2023-04":"2023-06", "denominator"].sum() == 6
    assert incl.loc["2023-04":"2023-06", "numerator"].sum() == 3
    assert excl.loc["2023-04":"2023-06", "denominator"].sum() == 2  # week20 = 0 only; blank is unknown
    assert excl.loc["2023-04":"2023-06", "numerator"].sum() == 1  # day 112 within, day 113 not
