"""Explore for the waiting-list KPIs (kpi/engine/explore_waits.py): totals equal the headline series for every waits KPI
and month, the service breakdown sets one measure across services, and age and locality come from the referral."""

from __future__ import annotations

import math

import pytest

from etl.load import load_paths
from kpi.engine import explore_waits as exw
from kpi.engine.explore import NOT_RECORDED, Span
from kpi.engine.series import kpi_series, open_readonly
from tests.support.waits import ROWS, referral, write_csv

EXTRA = [
    referral("S1", "SALT", "2022-06-01", age=9, locality="Dunstable"),          # 244 days at 31 Jan 2023
    referral("S2", "SALT", "2022-12-20", age="", locality=""),                  # no age, no locality
    referral("T1", "OT", "2022-08-01"),                                          # OT waiting 183 days at 31 Jan
    referral("T2", "OT", "2023-01-02", seen="2023-02-10"),                       # OT seen in February in 39 days
]


@pytest.fixture
def con(tmp_path):
    db = tmp_path / "waits.duckdb"
    load_paths([write_csv(tmp_path / "referrals_2023-04-30.csv", ROWS + EXTRA)], db)
    c = open_readonly(db)
    yield c
    c.close()


def _total(df):
    return df[df["is_total"]].iloc[0]


def test_totals_equal_the_headline_for_every_waits_kpi_and_month(con, catalogue):
    series = kpi_series(con, catalogue, [k.id for k in catalogue.kpis if exw.is_wait_kpi(k)]).set_index(
        ["kpi_id", "period"])
    checked = 0
    for kpi in (k for k in catalogue.kpis if exw.is_wait_kpi(k)):
        for period in ("2023-01", "2023-02", "2023-03", "2023-04"):
            for by in ("age_band", "locality"):
                t = _total(exw.breakdown(con, kpi, by, Span.month(period)))
                head = series.loc[(kpi.id, period)]
                if kpi.computation.method == "waiting_median_weeks":
                    same = (math.isnan(head["median"]) and math.isnan(t["value"])) or \
                        t["value"] == pytest.approx(head["median"])
                else:
                    same = (head["value"] != head["value"] and t["value"] != t["value"]) or \
                        t["value"] == pytest.approx(head["value"])
                    assert t["numerator"] == head["numerator"], (kpi.id, period, by)
                assert same, (kpi.id, period, by, t["value"], head["value"])
                checked += 1
    assert checked > 100


def test_service_breakdown_sets_the_measure_side_by_side(con, catalogue):
    kpi = catalogue.get("wait_over_18wk_salt")
    df = exw.breakdown(con, kpi, "service", Span.month("2023-01")).set_index("group")
    # SALT at 31 Jan 2023 (test_waits_engine's rows plus S1, S2): waiting B1 C1 D1 E1 F1 P1 S1 S2 = 8; over 126
    # days: C1 (127), E1 (365), F1 (364), S1 (244) = 4.
    assert (df.loc["Speech and language therapy", "numerator"], df.loc["Speech and language therapy",
                                                                      "denominator"]) == (4, 8)
    assert (df.loc["Occupational therapy", "numerator"], df.loc["Occupational therapy", "denominator"]) == (1, 2)
    assert (df.loc["Neurodevelopmental assessment", "numerator"],
            df.loc["Neurodevelopmental assessment", "denominator"]) == (0, 2)  # N1, N2: 30 and 29 days
    assert (df.loc["Total", "numerator"], df.loc["Total", "denominator"]) == (5, 12)


def test_age_and_locality_come_from_the_referral_and_missing_is_not_recorded(con, catalogue):
    kpi = catalogue.get("waiting_list_size_salt")
    by_age = exw.breakdown(con, kpi, "age_band", Span.month("2023-01")).set_index("group")
    assert by_age.loc["5 to 10", "value"] == 1  # S1
    assert by_age.loc[NOT_RECORDED, "value"] == 1  # S2
    assert by_age.loc["Under 5", "value"] == 6
    assert list(by_age.index)[-2:] == [NOT_RECORDED, "Total"]
    by_place = exw.breakdown(con, kpi, "locality", Span.month("2023-01")).set_index("group")
    assert by_place.loc["DUNSTABLE", "value"] == 1 and by_place.loc[NOT_RECORDED, "value"] == 1


def test_filters_and_a_comparison_period(con, catalogue):
    kpi = catalogue.get("waiting_list_size_salt")
    df = exw.breakdown(con, kpi, "service", Span.month("2023-01"), Span.month("2023-03"),
                       filters={"locality": ["LEIGHTON BUZZARD"]}).set_index("group")
    # 31 Mar 2023: C1 removed in February, D1 seen 1 March; B1 E1 F1 P1 still waiting (S1, S2 filtered out).
    assert df.loc["Speech and language therapy", "value"] == 6
    assert df.loc["Speech and language therapy", "value_b"] == 4
    assert df.loc["Speech and language therapy", "change"] == 2


def test_seen_within_counts_first_contacts_in_the_period(con, catalogue):
    kpi = catalogue.get("seen_within_18wk_ot")
    t = _total(exw.breakdown(con, kpi, "age_band", Span("2023-01", "2023-02")))
    assert (t["numerator"], t["denominator"]) == (2, 2)  # O1 in January (15 days), T2 in February (39 days)


def test_unknown_breakdown_is_refused(con, catalogue):
    with pytest.raises(ValueError, match="unknown breakdown 'primary_need' for a waiting-list KPI"):
        exw.breakdown(con, catalogue.get("waiting_list_size_salt"), "primary_need", Span.month("2023-01"))
    assert [d.id for d in exw.available_dimensions(con)] == ["service", "age_band", "locality"]


@pytest.mark.slow  # a page under AppTest
def test_explore_page_breaks_a_waits_kpi_down_by_service(tmp_path, monkeypatch):
    from tests.support.app import run_app

    db = tmp_path / "app.duckdb"
    load_paths([write_csv(tmp_path / "referrals_2023-04-30.csv", ROWS + EXTRA)], db)
    monkeypatch.setenv("APP_DB", str(db))
    at = run_app({"kpi": "wait_over_18wk_salt", "start": "2023-01", "end": "2023-01", "by": "service"},
                 page="pages/explore.py")
    assert at.selectbox(key="by").options == ["Service", "Age at referral", "Locality"]
    table = at.dataframe[0].value.set_index("Service")
    assert (table.loc["Speech and language therapy", "Numerator"],
            table.loc["Speech and language therapy", "Denominator"]) == (4, 8)
    assert table.loc["Total", "Rate (%)"] == pytest.approx(41.7, abs=0.05)
    assert not at.get("page_link")  # Explain reads SEN2 events: no link for a waiting-list KPI
