"""The Explore and Explain pages, run server-side with AppTest on the hand-built extract of
tests/support/explore_fixture.py (March 2023: 4 plans issued, 2 within 20 weeks; April 2023: 1 of 1)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest

import kpi.views.charts
import kpi.views.explore_view
from tests.support.app import run_app, text_of
from tests.support.explore_fixture import small_extract

pytestmark = pytest.mark.slow  # the Explore page's widgets and downloads (AppTest, ~2 s each): make test

EXPLORE = "pages/explore.py"
EXPLAIN = "pages/explain.py"


@pytest.fixture
def app_db(build_db, monkeypatch):
    db = build_db(small_extract())
    monkeypatch.setenv("APP_DB", str(db))
    return db


@pytest.fixture
def exported(monkeypatch):
    """Every CSV and Excel file the pages offer, as bytes, in the order they are built."""
    files: dict[str, list[bytes]] = {"csv": [], "xlsx": []}
    csv, xlsx = kpi.views.charts.table_csv, kpi.views.explore_view.excel_bytes
    monkeypatch.setattr(kpi.views.charts, "table_csv", lambda f: files["csv"].append(csv(f)) or files["csv"][-1])
    monkeypatch.setattr(kpi.views.explore_view, "excel_bytes",
                        lambda f, sheet: files["xlsx"].append(xlsx(f, sheet)) or files["xlsx"][-1])
    return files


def explore(query: dict[str, str]):
    return run_app({"period": "2023-03", "kpi": "ehcp_20wk_incl", **query}, page=EXPLORE)


def test_explore_shows_the_breakdown_worked_out_by_hand(app_db, exported):
    at = explore({"by": "sex"})
    table = at.dataframe[0].value
    assert list(table.columns) == ["Sex", "Numerator", "Denominator", "Rate (%)"]
    assert table.values.tolist() == [["Female", 0, 2, 0.0], ["Male", 1, 1, 100.0], ["Not recorded", 1, 1, 100.0],
                                     ["Total", 2, 4, 50.0]]
    text = text_of(at)
    assert [h.value for h in at.subheader] == ["EHCPs within 20 weeks (incl. exceptions) by sex, March 2023"]
    assert "Total March 2023: 50.0%" in text and "(2 of 4)" in text
    assert len(at.get("plotly_chart")) == 1
    # chart data CSV, chart data Excel, table CSV, table Excel: each exactly what is shown
    chart_csv, table_csv = (pd.read_csv(io.BytesIO(b)) for b in exported["csv"][-2:])
    chart_xlsx, table_xlsx = (pd.read_excel(io.BytesIO(b)) for b in exported["xlsx"][-2:])
    assert table_csv.values.tolist() == table.values.tolist()
    assert table_xlsx.values.tolist() == table.values.tolist()
    assert list(table_xlsx.columns) == list(table.columns)
    assert chart_csv.values.tolist() == chart_xlsx.values.tolist()
    assert chart_csv.set_index("Sex").loc["Male", "Value"] == 100.0
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Chart data (CSV)", "Chart data (Excel)", "Table (CSV)", "Table (Excel)"]


def test_choices_go_into_the_url_and_a_link_reopens_them(app_db):
    at = explore({"by": "sex"})
    assert at.query_params["start"] == at.query_params["end"] == "2023-03"
    at.selectbox(key="by").set_value("age_band").run()
    assert at.query_params["by"] == "age_band"
    at.selectbox(key="end").set_value("2023-04").run()
    assert not at.exception
    assert at.query_params["end"] == "2023-04"
    assert "Total March – April 2023: 60.0%" in text_of(at) and "(3 of 5)" in text_of(at)
    at.multiselect(key="f_sex").set_value(["Female"]).run()
    assert at.query_params["f_sex"] == "Female"  # AppTest shows one value; the page writes a list
    assert at.dataframe[0].value.set_index("Age at request")["Denominator"].to_dict() == {
        "5 to 10": 1, "16 to 19": 1, "Total": 2}
    link = dict(at.query_params)
    again = run_app(link, page=EXPLORE)
    assert again.selectbox(key="by").value == "age_band"
    assert again.multiselect(key="f_sex").value == ["Female"]
    assert again.dataframe[0].value.values.tolist() == at.dataframe[0].value.values.tolist()


def test_filters_from_the_link_include_not_recorded(app_db):
    at = explore({"by": "sex", "f_locality": "Not recorded"})
    assert at.multiselect(key="f_locality").value == ["Not recorded"]
    assert at.dataframe[0].value.values.tolist() == [["Not recorded", 1, 1, 100.0], ["Total", 1, 1, 100.0]]
    assert "Filtered to Locality (postcode district): Not recorded." in text_of(at)


def test_compare_two_periods(app_db):
    at = run_app({"period": "2023-04", "kpi": "ehcp_20wk_incl", "by": "age_band", "compare": "yes",
                  "cmp_start": "2023-03", "cmp_end": "2023-03"}, page=EXPLORE)
    table = at.dataframe[0].value.set_index("Age at request")
    assert list(table.columns) == ["Numerator, April 2023", "Denominator, April 2023", "Rate (%), April 2023",
                                   "Numerator, March 2023", "Denominator, March 2023", "Rate (%), March 2023",
                                   "Change (pts)"]
    assert table.loc["5 to 10"].tolist() == [1, 1, 100.0, 0, 1, 0.0, 100.0]
    assert pd.isna(table.loc["Under 5", "Rate (%), April 2023"]) and pd.isna(table.loc["Under 5", "Change (pts)"])
    assert table.loc["Total"].tolist() == [1, 1, 100.0, 2, 4, 50.0, 50.0]
    assert "March 2023: 50.0% (2 of 4) · change ▲ 50.0 pts, better" in text_of(at)
    at.radio(key="compare").set_value("no").run()
    assert "cmp_start" not in at.query_params and at.query_params["compare"] == "no"
    assert len(at.dataframe[0].value.columns) == 4


def test_unknown_choices_in_the_link_fall_back_with_a_note(app_db):
    at = explore({"by": "shoe_size", "f_sex": "Martian"})
    assert at.selectbox(key="by").value == "age_band"
    notes = " ".join(i.value for i in at.info)
    assert "shoe_size" in notes and "Martian" in notes


def test_weeks_kpi_table_has_means_and_medians(app_db):
    at = run_app({"period": "2023-03", "kpi": "ehcp_weeks_to_issue", "by": "sex"}, page=EXPLORE)
    table = at.dataframe[0].value.set_index("Sex")
    assert list(table.columns) == ["Total weeks", "Plans issued", "Mean weeks", "Median weeks"]
    assert table.loc["Female"].tolist() == [44.3, 2, 22.1, 22.1]  # (160 + 150) days / 7 = 44.3 weeks


def test_explain_shows_definition_sql_counts_loads_and_records(app_db, exported):
    at = run_app({"period": "2023-03", "kpi": "ehcp_20wk_incl"}, page=EXPLAIN)
    text = text_of(at)
    assert "Explain this number: EHCPs within 20 weeks (incl. exceptions), March 2023" in text
    assert "50.0%" in text and "2 of 4" in text
    assert "SEND Regulations 2014, reg 13(2)" in text and "Head of SEND Assessment" in text
    assert "4 records in the denominator, 2 of them met the time limit (the numerator) and 2 did not." in text
    code = "\n".join(c.value for c in at.code)
    assert "method: plans_issued_within" in code and "days: 140" in code
    assert "<= 140 AS met" in code and "count(*) FILTER (WHERE met) AS numerator" in code
    loads, records = (d.value for d in at.dataframe)
    assert loads["Module"].tolist() == ["person", "requests", "assessment"]
    assert loads["SHA-256"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert records[["Request received", "Plan issued", "Days", "Met"]].values.tolist() == [
        ["2023-01-02", "2023-03-01", 58, "Yes"], ["2022-12-01", "2023-03-20", 109, "Yes"],
        ["2022-10-01", "2023-03-10", 160, "No"], ["2022-11-01", "2023-03-31", 150, "No"]]
    assert pd.read_csv(io.BytesIO(exported["csv"][-1]))["Days"].tolist() == [58, 109, 160, 150]
    assert pd.read_excel(io.BytesIO(exported["xlsx"][-1]))["Met"].tolist() == ["Yes", "Yes", "No", "No"]


def test_explain_a_month_without_events_says_no_value(app_db):
    at = run_app({"period": "2023-02", "kpi": "ehcp_20wk_incl"}, page=EXPLAIN)
    text = text_of(at)
    assert "No events in the month: there is no value (never 0%)." in text
    assert "No records are counted in this month." in text
    assert "0 records in the denominator" in text


def test_explain_a_count_lists_the_records_open_at_month_end(app_db):
    at = run_app({"period": "2023-02", "kpi": "ehcna_open_over_20wk"}, page=EXPLAIN)
    assert "1 record counted at the end of February 2023" in text_of(at)
    records = at.dataframe[-1].value
    assert records[["Request received", "Over the limit from", "Until"]].values.tolist() == [
        ["2022-10-01", "2023-02-19", "2023-03-10"]]


def test_the_pages_hold_no_sql():
    root = Path(__file__).resolve().parent.parent / "pages"
    for name in ("explore.py", "explain.py"):
        text = (root / name).read_text()
        assert not re.search(r"\b(SELECT|FROM|WHERE)\b|\.execute\(|duckdb", text), name
