"""Snapshot and review KPIs on hand-built records: backlog of open assessments, review timeliness, overdue reviews."""

from __future__ import annotations

import pytest

from tests.support.blade import Blade


def _extend_to(b: Blade, day: str) -> None:
    """A pending request so the extract (and the month spine) runs to ``day``'s month."""
    b.request(b.person(), day, "A", None)


def test_open_assessment_counts_from_day_141_until_its_final_outcome(series_of):
    b = Blade()
    # Received 2023-01-20: day 141 is 2023-06-10, so open over 20 weeks at the end of June, not May.
    r = b.request(b.person(), "2023-01-20", "Y", "2023-03-01")
    b.plan(b.assessment(r, "Y", "2023-08-15"), "2023-08-15")
    # Received 2023-01-11: day 140 falls on 2023-05-31 (not yet over), day 141 on 2023-06-01.
    b.assessment(b.request(b.person(), "2023-01-11", "Y", "2023-02-20"), "A", None)
    # Refused and withdrawn requests are never open assessments.
    b.request(b.person(), "2023-01-02", "N", "2023-02-01")
    b.request(b.person(), "2023-01-02", "W", "2023-02-01")
    _extend_to(b, "2023-10-05")
    s = series_of(b, "ehcna_open_over_20wk")
    assert s.loc["2023-05", "value"] == 0
    assert s.loc["2023-06", "value"] == 2
    assert s.loc["2023-07", "value"] == 2
    assert s.loc["2023-08", "value"] == 1  # plan issued on 15 August closes the first one
    assert s.loc["2023-10", "value"] == 1  # pending assessment still open
    assert s.loc["2023-10", "denominator"] is None or s["denominator"].isna().all()


def test_open_assessment_not_counted_before_the_decision_to_assess(series_of):
    b = Blade()
    # Decided to assess late (day 200): counted only from the decision month.
    b.assessment(b.request(b.person(), "2023-01-02", "Y", "2023-07-21"), "A", None)
    _extend_to(b, "2023-08-01")
    s = series_of(b, "ehcna_open_over_20wk")
    assert s.loc["2023-06", "value"] == 0
    assert s.loc["2023-07", "value"] == 1


def test_review_decision_28_vs_29_days_and_outstanding_decisions(series_of):
    b = Blade()
    r = b.issued_plan("2021-01-04", "2021-05-03")
    b.review(r, "2022-04-04", "2022-05-02", "M")  # 28 days
    r2 = b.issued_plan("2021-01-04", "2021-05-03")
    b.review(r2, "2022-04-04", "2022-05-03", "A")  # 29 days
    r3 = b.issued_plan("2021-01-04", "2021-05-03")
    b.review(r3, "2022-04-20", None)  # decision outstanding: not in any month's denominator
    s = series_of(b, "ar_decision_4wk")
    assert (s.loc["2022-05", "numerator"], s.loc["2022-05", "denominator"]) == (1, 2)
    assert s["denominator"].sum() == 2


def test_overdue_review_boundary_at_twelve_months(series_of):
    b = Blade()
    # Plan starts 2022-01-31: review due by 2023-01-31, overdue from 2023-02-01.
    r = b.issued_plan("2021-10-01", "2022-01-31")
    # A second plan reviewed on time, then overdue a year after that meeting.
    r2 = b.issued_plan("2021-10-01", "2022-01-15")
    b.review(r2, "2023-01-10", "2023-02-01", "M")
    _extend_to(b, "2024-02-10")
    s = series_of(b, "ar_overdue")
    assert s.loc["2023-01", "value"] == 0  # due that very day, not yet overdue
    assert s.loc["2023-02", "value"] == 1  # the first plan
    assert s.loc["2024-01", "value"] == 2  # the second: last meeting 2023-01-10, over 12 months ago
    assert r  # the first plan never had a review


def test_ceased_plans_are_not_overdue(series_of):
    b = Blade()
    p = b.person()
    r = b.request(p, "2021-10-01", "Y", "2021-11-01")
    b.plan(b.assessment(r, "Y", "2022-01-10"), "2022-01-10", cease="2023-03-15", reason="2")
    _extend_to(b, "2023-06-01")
    s = series_of(b, "ar_overdue")
    assert s.loc["2023-02", "value"] == 1
    assert s.loc["2023-03", "value"] == 0  # ceased in March: not active at the month end


@pytest.mark.parametrize("kpi_id", ["ehcna_open_over_20wk", "ar_overdue"])
def test_snapshot_kpis_have_no_rolling_value(series_of, kpi_id):
    b = Blade()
    b.issued_plan("2021-01-04", "2021-05-03")
    _extend_to(b, "2023-01-05")
    s = series_of(b, kpi_id)
    assert s["rolling_12m"].isna().all()
