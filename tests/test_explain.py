"""Explain this number: the records behind a month's value, the loads they came from, the SQL and the definition."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import pytest

from kpi.engine import explain as xp
from kpi.engine.compute import compute_kpi, series_window
from kpi.engine.series import kpi_series, open_readonly
from tests.support.explore_fixture import small_extract, varied_extract


@pytest.fixture
def small_db(build_db):
    return build_db(small_extract())


@pytest.fixture
def small(small_db):
    con = open_readonly(small_db)
    yield con
    con.close()


def test_records_of_march_2023_by_hand(small, catalogue):
    kpi = catalogue.get("ehcp_20wk_incl")
    table = xp.records_table(xp.records(small, kpi, "2023-03"), kpi)
    assert list(table.columns) == ["Person (pseudonym)", "Request id", "Request received", "Plan issued", "Days",
                                   "Met"]
    assert table[["Request received", "Plan issued", "Days", "Met"]].values.tolist() == [
        ["2023-01-02", "2023-03-01", 58, "Yes"],   # A
        ["2022-12-01", "2023-03-20", 109, "Yes"],  # C (exception: counted when exceptions are included)
        ["2022-10-01", "2023-03-10", 160, "No"],   # B
        ["2022-11-01", "2023-03-31", 150, "No"],   # D
    ]
    excl = catalogue.get("ehcp_20wk_excl")
    assert xp.records_table(xp.records(small, excl, "2023-03"), excl)["Days"].tolist() == [58, 160, 150]


def test_records_are_pseudonymous(small, catalogue):
    kpi = catalogue.get("ehcp_20wk_incl")
    table = xp.records_table(xp.records(small, kpi, "2023-03"), kpi)
    assert all(re.fullmatch(r"[0-9a-f]{64}", p) for p in table["Person (pseudonym)"])
    text = table.to_csv()
    for leak in ("Featherstonehaugh", "Imogen", "A8231234", "LU5 1AA", "2019-01-10"):
        assert leak not in text


def test_count_records_are_those_counted_at_month_end(small, catalogue):
    kpi = catalogue.get("ehcna_open_over_20wk")
    table = xp.records_table(xp.records(small, kpi, "2023-02"), kpi)
    assert list(table.columns) == ["Person (pseudonym)", "Request id", "Request received", "Over the limit from",
                                   "Until"]
    assert table.iloc[:, 2:].values.tolist() == [["2022-10-01", "2023-02-19", "2023-03-10"]]  # B
    assert xp.records(small, kpi, "2023-03").empty


def test_records_match_the_headline_for_every_kpi(build_db, catalogue):
    con = open_readonly(build_db(varied_extract()))
    try:
        series = kpi_series(con, catalogue).set_index(["kpi_id", "period"])
        periods = sorted(series.index.get_level_values("period").unique())
        for kpi in map(catalogue.get, catalogue.event_ids):  # the waiting lists have no SEN2 event rows
            for period in periods[::3]:
                head = series.loc[(kpi.id, period)]
                recs = xp.records(con, kpi, period)
                if kpi.is_snapshot:
                    assert len(recs) == head["numerator"], (kpi.id, period)
                    continue
                assert len(recs) == head["denominator"], (kpi.id, period)
                if kpi.is_rate:
                    assert int(recs["met"].sum()) == head["numerator"], (kpi.id, period)
                elif len(recs):
                    assert recs["weeks"].sum() == pytest.approx(head["numerator"])
    finally:
        con.close()


def test_loads_name_the_files_and_hashes_the_records_came_from(small, small_db, catalogue):
    extract = small_db.parent / "extract0"
    loads = xp.loads(small, catalogue.get("ehcp_20wk_incl"), "2023-03")
    assert loads["Module"].tolist() == ["person", "requests", "assessment"]  # the tables this KPI reads
    for _, row in loads.iterrows():
        assert row["SHA-256"] == hashlib.sha256((extract / row["File"]).read_bytes()).hexdigest()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["Loaded at"])
    decisions = xp.loads(small, catalogue.get("request_decision_6wk"), "2023-02")
    assert decisions["Module"].tolist() == ["person", "requests"]
    assert xp.loads(small, catalogue.get("ehcp_20wk_incl"), "2023-02").empty  # no records, no loads


def test_series_sql_is_the_sql_that_made_the_series(small, catalogue):
    kpi = catalogue.get("ehcp_20wk_excl")
    sql = xp.series_sql(small, catalogue, kpi)
    assert "<= 140" in sql and "week20_exception" in sql
    ran = small.execute(sql).df()
    made = compute_kpi(small, kpi, series_window(small, catalogue))
    pd.testing.assert_series_equal(ran["numerator"], made["numerator"], check_dtype=False)
    pd.testing.assert_series_equal(ran["denominator"], made["denominator"], check_dtype=False)


def test_definition_is_the_yaml_entry(catalogue):
    text = xp.definition_yaml(catalogue.get("ehcp_20wk_excl"))
    assert text.startswith("id: ehcp_20wk_excl\n")
    assert "method: plans_issued_within" in text and "days: 140" in text and "exceptions: exclude" in text
    assert "SEND Regulations 2014, reg 13(2)" in text
