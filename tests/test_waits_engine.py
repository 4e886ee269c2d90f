"""Waiting-list KPIs on a hand-built referral extract with known month-end answers (kpi/engine/compute_waits.py).

Month ends used: 31 Jan, 28 Feb, 31 Mar 2023. Days waited at a month end = month end − referral date.
"""

from __future__ import annotations

import math

import pytest

from etl.load import load_paths
from kpi.engine.series import kpi_series, open_readonly
from tests.support.blade import Blade
from tests.support.waits import ROWS, referral, write_csv


@pytest.fixture
def waits_db(tmp_path):
    db = tmp_path / "waits.duckdb"
    load_paths([write_csv(tmp_path / "referrals_2023-04-30.csv", ROWS)], db)
    return db


def _series(db, catalogue, kpi_id):
    con = open_readonly(db)
    try:
        return kpi_series(con, catalogue, [kpi_id]).set_index("period")
    finally:
        con.close()


def test_list_size_and_over_18_weeks_at_month_ends(waits_db, catalogue):
    size = _series(waits_db, catalogue, "waiting_list_size_salt")["value"]
    over = _series(waits_db, catalogue, "wait_over_18wk_salt")
    # 31 Jan: B1 0, P1 61, D1 126, C1 127, F1 364, E1 365 → 6 waiting, 3 over 126 days (C1, F1, E1).
    assert size["2023-01"] == 6
    assert (over.loc["2023-01", "numerator"], over.loc["2023-01", "denominator"]) == (3, 6)
    assert over.loc["2023-01", "value"] == pytest.approx(50.0)
    # 28 Feb: C1 removed (unseen) on 15 Feb; D1 now 154 days → 5 waiting, 3 over (D1, F1, E1).
    assert size["2023-02"] == 5 and over.loc["2023-02", "value"] == pytest.approx(60.0)
    # 31 Mar: D1 seen on 1 Mar → 4 waiting (B1, P1, F1, E1), 2 over.
    assert size["2023-03"] == 4 and over.loc["2023-03", "value"] == pytest.approx(50.0)
    # Before the re-referral P1's first referral was waiting: 31 Jul 2022 it is on the list, 31 Aug not.
    assert size["2022-07"] == 3 and size["2022-08"] == 2  # Jul: E1, F1, P1; Aug (P1 removed 1 Aug): E1, F1
    assert over.loc["2022-07", "numerator"] == 2  # E1 181 days, F1 180 days; P1 60 days


def test_over_52_weeks_boundary(waits_db, catalogue):
    s = _series(waits_db, catalogue, "wait_over_52wk_salt")["value"]
    assert s["2023-01"] == 1  # E1 at 365 days counts; F1 at 364 does not
    assert s["2023-02"] == 2  # both over 364 by 28 Feb
    assert s["2022-12"] == 0  # a count: zero is a real value


def test_median_weeks(waits_db, catalogue):
    s = _series(waits_db, catalogue, "wait_median_weeks_salt")
    # days 0, 61, 126, 127, 364, 365 → median 126.5 days
    assert s.loc["2023-01", "value"] == pytest.approx(126.5 / 7)
    assert s.loc["2023-01", "denominator"] == 6
    # 31 Mar: days 59, 120, 423, 424 → median 271.5
    assert s.loc["2023-03", "value"] == pytest.approx(271.5 / 7)


def test_seen_within_18_weeks_by_month_of_first_contact(waits_db, catalogue):
    s = _series(waits_db, catalogue, "seen_within_18wk_salt")
    assert (s.loc["2023-01", "numerator"], s.loc["2023-01", "denominator"]) == (1, 1)  # A1 seen on the day
    assert (s.loc["2023-03", "numerator"], s.loc["2023-03", "denominator"]) == (0, 1)  # D1 after 155 days
    assert math.isnan(s.loc["2023-02", "value"])  # no first contact in February: no value, not 0%
    # removed without being seen (C1, P1's first referral) never counts as a first contact
    assert s["denominator"].sum() == 2


def test_empty_months_have_no_rate_or_median(waits_db, catalogue):
    over = _series(waits_db, catalogue, "wait_over_18wk_ot")
    median = _series(waits_db, catalogue, "wait_median_weeks_ot")
    size = _series(waits_db, catalogue, "waiting_list_size_ot")
    assert math.isnan(over.loc["2023-01", "value"]) and over.loc["2023-01", "denominator"] == 0
    assert math.isnan(median.loc["2023-01", "value"])
    assert size.loc["2023-01", "value"] == 0
    seen = _series(waits_db, catalogue, "seen_within_18wk_ot")
    assert seen.loc["2023-01", "value"] == 100.0


def test_nice_13_week_autism_boundary(waits_db, catalogue):
    s = _series(waits_db, catalogue, "seen_within_13wk_neurodevelopmental")
    assert (s.loc["2023-04", "numerator"], s.loc["2023-04", "denominator"]) == (1, 2)  # 91 d in, 92 d out
    s18 = _series(waits_db, catalogue, "seen_within_18wk_neurodevelopmental")
    assert s18.loc["2023-04", "value"] == 100.0


def test_window_follows_the_referral_data(waits_db, catalogue):
    s = _series(waits_db, catalogue, "waiting_list_size_salt")
    assert s.index.min() == "2022-01" and s.index.max() == "2023-04"  # first referral to the extract's date
    # A SEN2 KPI in a database with only waiting-list data: every month present, no values.
    sen2 = _series(waits_db, catalogue, "ehcp_20wk_excl")
    assert list(sen2.index) == list(s.index) and sen2["value"].isna().all()


def test_sen2_only_database_gives_empty_wait_rows(build_db, catalogue):
    b = Blade()
    b.issued_plan("2022-11-01", "2023-01-31")
    db = build_db(b)
    wait = _series(db, catalogue, "waiting_list_size_salt")
    sen2 = _series(db, catalogue, "ehcp_20wk_excl")
    assert list(wait.index) == list(sen2.index)
    assert wait["value"].isna().all()  # no referral data: no value, never a count of 0


def test_both_families_keep_their_own_months(tmp_path, catalogue):
    b = Blade()
    b.issued_plan("2022-11-01", "2023-01-31")
    folder = b.write(tmp_path / "blade")
    write_csv(folder / "referrals_2023-04-30.csv", ROWS)
    db = tmp_path / "both.duckdb"
    load_paths([folder], db)
    sen2 = _series(db, catalogue, "ehcp_20wk_excl")
    assert (sen2.index.min(), sen2.index.max()) == ("2022-11", "2025-01")  # to the SEN2 header's date, whatever
    # the referral data
    assert _series(db, catalogue, "waiting_list_size_salt").loc["2023-01", "value"] == 6


def test_validate_reports_referral_data_ending_before_the_plan(tmp_path, capsys):
    from kpi.__main__ import main as kpi_main

    b = Blade()
    r = b.issued_plan("2023-01-04", "2023-05-03")
    b.review(r, "2023-06-01", "2023-06-20", "M")
    folder = b.write(tmp_path / "blade")
    write_csv(folder / "referrals_2021-06-30.csv", [referral("Z1", "SALT", "2021-03-01", seen="2021-06-01")])
    db = tmp_path / "v.duckdb"
    load_paths([folder], db)
    assert kpi_main(["validate", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "plan window starts 2023-02 but the referral data end at 2021-06" in err
    (folder / "referrals_2021-06-30.csv").unlink()  # the next month's extract replaces it
    write_csv(folder / "referrals_2023-06-30.csv", [referral("Z1", "SALT", "2021-03-01", seen="2023-06-01")])
    load_paths([folder], db)
    assert kpi_main(["validate", "--db", str(db)]) == 0
