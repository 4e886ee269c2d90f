"""The timeliness KPIs on hand-built records: boundaries, exceptions, pending, withdrawn, refused."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from tests.support.blade import Blade


def test_day_140_is_within_20_weeks_and_day_141_is_not(series_of):
    b = Blade()
    b.issued_plan("2023-01-02", "2023-05-22")  # 140 days
    b.issued_plan("2023-01-02", "2023-05-23")  # 141 days
    s = series_of(b, "ehcp_20wk_excl")
    assert s.loc["2023-05", "numerator"] == 1
    assert s.loc["2023-05", "denominator"] == 2
    assert s.loc["2023-05", "value"] == pytest.approx(50.0)


def test_exceptions_are_left_out_of_excl_and_counted_in_incl(series_of):
    b = Blade()
    b.issued_plan("2023-01-02", "2023-03-01")  # 58 days, no exception
    b.issued_plan("2023-01-02", "2023-03-10", week20=1)  # quick, but exception applies
    b.issued_plan("2023-01-02", "2023-07-20", week20=1)  # slow, exception applies
    excl = series_of(b, "ehcp_20wk_excl")
    incl = series_of(b, "ehcp_20wk_incl")
    assert (excl.loc["2023-03", "numerator"], excl.loc["2023-03", "denominator"]) == (1, 1)
    assert (incl.loc["2023-03", "numerator"], incl.loc["2023-03", "denominator"]) == (2, 2)
    assert excl.loc["2023-07", "denominator"] == 0
    assert math.isnan(excl.loc["2023-07", "value"])
    assert (incl.loc["2023-07", "numerator"], incl.loc["2023-07", "denominator"]) == (0, 1)
    assert incl.loc["2023-07", "value"] == 0.0


def test_week20_written_as_true_or_float_is_understood(series_of):
    b = Blade()
    b.issued_plan("2023-01-02", "2023-03-01", week20="true")
    b.issued_plan("2023-01-02", "2023-03-01", week20="1.0")
    b.issued_plan("2023-01-02", "2023-03-01", week20="0.0")
    s = series_of(b, "ehcp_20wk_excl")
    assert s.loc["2023-03", "denominator"] == 1


def test_pending_withdrawn_and_not_issued_are_not_plans_issued(series_of):
    b = Blade()
    b.issued_plan("2023-01-02", "2023-04-03")
    p = b.person()
    b.assessment(b.request(p, "2023-01-05", "Y", "2023-02-10"), "A", None)  # pending
    b.assessment(b.request(b.person(), "2023-01-05", "Y", "2023-02-10"), "W", "2023-04-10")  # withdrawn
    b.assessment(b.request(b.person(), "2023-01-05", "Y", "2023-02-10"), "N", "2023-04-12")  # not issued
    s = series_of(b, "ehcp_20wk_incl")
    assert s.loc["2023-04", "denominator"] == 1
    assert s.loc["2023-04", "numerator"] == 1


def test_month_is_the_issue_month_and_empty_months_have_no_value(series_of):
    b = Blade()
    b.issued_plan("2022-11-01", "2023-01-31")
    b.issued_plan("2022-11-01", "2023-03-01")
    s = series_of(b, "ehcp_20wk_excl")
    assert s.loc["2023-01", "denominator"] == 1
    assert s.loc["2023-02", "denominator"] == 0
    assert math.isnan(s.loc["2023-02", "value"])
    assert s.loc["2023-03", "denominator"] == 1


def test_several_requests_for_one_person_each_count(series_of):
    b = Blade()
    p = b.person()
    b.request(p, "2022-01-10", "N", "2022-02-01")  # refused first time
    r2 = b.request(p, "2022-09-01", "Y", "2022-10-10")
    b.plan(b.assessment(r2, "Y", "2023-01-10"), "2023-01-10")
    decisions = series_of(b, "request_decision_6wk")
    assert decisions.loc["2022-02", "denominator"] == 1 and decisions.loc["2022-02", "numerator"] == 1
    assert decisions.loc["2022-10", "denominator"] == 1 and decisions.loc["2022-10", "numerator"] == 1
    plans = series_of(b, "ehcp_20wk_incl")
    assert plans.loc["2023-01", "denominator"] == 1
    assert plans.loc["2023-01", "numerator"] == 1  # 2022-09-01 → 2023-01-10 is 131 days


def test_request_decisions_42_vs_43_days_and_only_yes_or_no(series_of):
    b = Blade()
    b.request(b.person(), "2023-03-01", "Y", "2023-04-12")  # 42 days
    b.request(b.person(), "2023-03-01", "N", "2023-04-13")  # 43 days
    b.request(b.person(), "2023-03-01", "W", "2023-04-05")  # withdrawn: not a decision
    b.request(b.person(), "2023-03-20", "A", None)  # awaited
    s = series_of(b, "request_decision_6wk")
    assert (s.loc["2023-04", "numerator"], s.loc["2023-04", "denominator"]) == (1, 2)


def test_not_issue_112_vs_113_days(series_of):
    b = Blade()
    for days in (112, 113):
        r = b.request(b.person(), "2023-01-02", "Y", "2023-02-01")
        b.assessment(r, "N", (date(2023, 1, 2) + timedelta(days=days)).isoformat())
    s = series_of(b, "not_issue_16wk")
    assert (s.loc["2023-04", "numerator"], s.loc["2023-04", "denominator"]) == (1, 2)


def test_weeks_to_issue_mean_and_median(series_of):
    b = Blade()
    b.issued_plan("2023-01-02", "2023-03-13")  # 70 days = 10 weeks
    b.issued_plan("2023-01-02", "2023-03-27")  # 84 days = 12 weeks
    b.issued_plan("2022-12-05", "2023-03-27", week20=1)  # 112 days = 16 weeks (exceptions included)
    s = series_of(b, "ehcp_weeks_to_issue")
    assert s.loc["2023-03", "value"] == pytest.approx((10 + 12 + 16) / 3)
    assert s.loc["2023-03", "median"] == pytest.approx(12)
    assert s.loc["2023-03", "denominator"] == 3


def test_rolling_12_months_in_december_equals_the_calendar_year(series_of):
    b = Blade()
    # 2022: 3 of 4 on time, spread over the year; 2023: 1 of 2.
    b.issued_plan("2022-01-03", "2022-03-01")
    b.issued_plan("2022-03-01", "2022-06-01")
    b.issued_plan("2022-06-01", "2022-12-31")  # 213 days: late
    b.issued_plan("2022-09-01", "2022-12-01")
    b.issued_plan("2022-12-01", "2023-02-01")
    b.issued_plan("2023-01-02", "2023-11-01")
    b.request(b.person(), "2023-12-15", "A", None)  # the extract runs to December 2023
    s = series_of(b, "ehcp_20wk_excl")
    assert s.loc["2022-12", "rolling_12m"] == pytest.approx(75.0)
    assert s.loc["2023-12", "rolling_12m"] == pytest.approx(50.0)
    assert math.isnan(s.loc["2022-11", "rolling_12m"])  # fewer than 12 months of history
