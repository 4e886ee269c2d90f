"""The Benchmarks page and the KPI page's comparison section, server-side (AppTest), on a database holding DfE's
real published files (bundled in data/published) beside the hand-built case extract of test_app.py."""

from __future__ import annotations

import shutil

import pytest

from etl.load import load_paths
from tests.support.app import TRAJECTORY_PAGE, plan_extract, run_app, text_of

pytestmark = pytest.mark.slow  # pages on the whole published database (its load ~20 s): make test

BENCHMARKS_PAGE = "pages/benchmarks.py"


@pytest.fixture
def published_app_db(published_db, tmp_path, monkeypatch):
    db = tmp_path / "app.duckdb"
    shutil.copy(published_db, db)
    load_paths([plan_extract().write(tmp_path / "extract")], db)
    monkeypatch.setenv("APP_DB", str(db))
    return db


def test_benchmarks_page_shows_the_home_area_beside_england_and_neighbours(published_app_db):
    at = run_app({"kpi": "ehcp_20wk_excl"}, page=BENCHMARKS_PAGE)
    assert at.selectbox(key="kpi").value == "ehcp_20wk_excl"
    assert at.selectbox(key="bench_year").value == 2024
    text = text_of(at)
    # DfE's published figures for Central Bedfordshire in 2024 (timeliness_20_week.csv).
    assert "48.8%" in text and "271 of 555" in text
    assert "46.4%" in text  # England
    assert "82 of 151" in text and "Quartile 3" in text
    table = at.dataframe[0].value.set_index("Code")
    assert table.loc["E06000056", "Value"] == "48.8%" and table.loc["E06000056", "Rank"] == 82
    assert table.loc["E92000001", "Value"] == "46.4%"
    assert len(table) == 15  # area, England, region, 10 neighbours, pooled, median
    assert "The target is the England average for 2022: DfE published 49.2%" in text
    assert [c.key for c in at.get("plotly_chart")] == ["bars", "rank", "history"]


def test_benchmarks_year_can_be_replayed(published_app_db):
    at = run_app({"kpi": "ehcp_20wk_excl"}, page=BENCHMARKS_PAGE)
    at.selectbox(key="bench_year").set_value(2022).run()
    assert not at.exception
    table = at.dataframe[0].value.set_index("Code")
    assert table.loc["E06000056", "Value"] == "12.0%" and table.loc["E92000001", "Value"] == "49.2%"


def test_reconciliation_flags_in_words(published_app_db):
    at = run_app({"kpi": "ehcp_20wk_excl"}, page=BENCHMARKS_PAGE)
    recon = at.dataframe[-1].value
    assert set(recon["Check"]) <= {"✖ Differs", "✔ Agrees", "– Not published"}
    # The hand-built extract is not Central Bedfordshire's real one: 2022's 50% local value is far from DfE's 12.0%.
    row = recon[(recon["Year"] == 2022) & (recon["Measure"] == "Rate")
                & (recon["KPI"] == "EHCPs within 20 weeks (excl. exceptions)")].iloc[0]
    assert row["DfE published"] == "12.0%" and row["Check"] == "✖ Differs"
    assert recon["Check"].iloc[0] == "✖ Differs"  # flagged rows first


def test_kpi_page_compares_with_england_and_checks_the_target(published_app_db):
    at = run_app({"kpi": "ehcp_20wk_excl", "period": "2023-07"}, page=TRAJECTORY_PAGE)
    assert [c.key for c in at.get("plotly_chart")] == ["trajectory", "spc", "comparison"]
    text = text_of(at)
    assert "Compared with England and similar areas" in [s.value for s in at.subheader]
    assert "The target is the England average for 2022: DfE published 49.2% (timeliness_20_week.csv" in text
    assert "✔ The plan's 49.2% agrees." in text


def test_kpi_without_a_published_equivalent_says_so(published_app_db):
    at = run_app({"kpi": "ar_overdue"}, page=TRAJECTORY_PAGE)
    assert "DfE publishes no figure on this KPI's definition." in text_of(at)


def test_benchmarks_page_without_published_data_explains_how_to_load_it(build_db, monkeypatch):
    monkeypatch.setenv("APP_DB", str(build_db(plan_extract())))
    at = run_app(page=BENCHMARKS_PAGE)
    text = text_of(at)
    assert "No DfE published statistics are loaded" in text
    assert "python -m etl load" in text and "python -m etl published load --db" in text


def test_a_monitor_is_told_whom_to_ask_never_the_servers_commands_or_paths(build_db, monkeypatch):
    db = build_db(plan_extract())
    monkeypatch.setenv("APP_DB", str(db))
    monkeypatch.setenv("APP_ROLE", "monitor")
    text = text_of(run_app(page=BENCHMARKS_PAGE))
    assert "No DfE published statistics are loaded" in text and "Ask the dashboard's analysts to load them" in text
    assert "python -m" not in text and str(db) not in text
    trajectory = text_of(run_app(page=TRAJECTORY_PAGE))  # its comparison section says the same
    assert "DfE's published statistics are not loaded in this dashboard yet: ask its analysts" in trajectory
    assert "python -m" not in trajectory


def test_benchmarks_page_shows_the_tribunal_appeal_rate(published_app_db):
    """A measure DfE publishes that the case records cannot compute: on Benchmarks, with its definition."""
    at = run_app({"kpi": "tribunal_appeal_rate"}, page=BENCHMARKS_PAGE)
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="kpi").value == "tribunal_appeal_rate"
    assert at.selectbox(key="bench_year").value == 2024
    text = text_of(at)
    assert "1.7%" in text and "140 of 8,246" in text  # Central Bedfordshire 2024 (MoJ/DfE table)
    assert "Lower is better" in text and "Children and Families Act 2014, s51" in text
    table = at.dataframe[0].value.set_index("Code")
    assert table.loc["E06000056", "Value"] == "1.7%"


def test_kpi_page_shows_the_tribunal_appeal_rate_as_a_published_measure(published_app_db):
    """Annual and published only: chosen on the KPI page like a KPI, with its comparison and definition, and no
    trajectory, SPC or status."""
    at = run_app({"kpi": "tribunal_appeal_rate"}, page=TRAJECTORY_PAGE)
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="kpi").value == "tribunal_appeal_rate"
    text = text_of(at)
    assert "SEND Tribunal appeal rate (appeals registered / appealable decisions)" in text
    assert "no monthly series, plan or status" in text and "Children and Families Act 2014, s51" in text
    assert [c.key for c in at.get("plotly_chart")] == ["comparison"]
    assert "Status" not in text
