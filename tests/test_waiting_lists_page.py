"""The Waiting lists page, run with AppTest on a hand-built referral extract and a hand-built NHS workbook.

Known answers for 31 January 2023 (tests/test_waits_engine.py explains each referral): speech and language
therapy has 6 waiting, 3 over 18 weeks (50.0%), a median of 126.5 days (18.1 weeks), 1 over 52 weeks and
1 first contact in the month, within 18 weeks (100.0%). The plan's trajectory for January 2023 is its baseline,
63.4%, so 50.0% is on track (lower is better).
"""

from __future__ import annotations

import pytest

from etl.load import load_paths
from tests.support.app import run_app, text_of
from tests.support.nhs import workbook
from tests.support.waits import ROWS, write_csv

pytestmark = pytest.mark.slow  # pages run under streamlit's AppTest (~2 s each): make test

PAGE = "pages/waiting_lists.py"


@pytest.fixture
def waits_app(tmp_path, monkeypatch):
    db = tmp_path / "app.duckdb"
    write_csv(tmp_path / "in" / "referrals_2023-04-30.csv", ROWS)
    workbook(tmp_path / "in" / "nhs.xlsx", code_column=True)  # January 2023: RYV SALT total 1, over 52 weeks 1
    load_paths([tmp_path / "in"], db)
    monkeypatch.setenv("APP_DB", str(db))
    return db


def test_local_waits_and_nhs_series_for_the_month(waits_app):
    at = run_app({"period": "2023-01"}, page=PAGE)
    text = text_of(at)
    assert "Waiting lists: January 2023" in text
    assert at.selectbox(key="service").value == "SALT"
    assert "Waiting at month end6Speech and language therapy" in text
    assert "50.0%3 of 6" in text
    assert "On track" not in text  # January 2023 is the plan's baseline month: the starting point, no status
    assert "18.1 weeks" in text
    assert "Waiting over 52 weeks1children" in text
    assert "100.0%of 1 first contacts in the month" in text
    assert "trust-wide" in text and "(RYV)" in text
    assert at.query_params["service"] == "SALT" and at.query_params["org"] == "RYV"
    frames = [d.value for d in at.dataframe]
    by_age, longest, compared = frames
    assert by_age.set_index("Age group").loc["Under 5", "Waiting"] == 6
    assert list(longest["Weeks waiting"][:2]) == [52.1, 52.0]  # E1 365 days, F1 364 days
    assert set(longest.columns) == {"Weeks waiting", "Referred (month)", "Age group", "Locality"}
    jan = compared.set_index("Month").loc["January 2023"]
    assert (jan["Local: waiting"], jan["Local: % over 18 weeks"], jan["NHS: waiting"], jan["NHS: over 52 weeks"]) == (
        6, 50.0, 1, 1)
    assert len(at.get("plotly_chart")) == 3


def test_service_from_the_link_and_a_month_with_nobody_waiting(waits_app):
    at = run_app({"period": "2023-01", "service": "OT"}, page=PAGE)
    assert at.selectbox(key="service").value == "OT"
    text = text_of(at)
    assert "Waiting at month end0Occupational therapy" in text
    assert "Waiting over 18 weeks–0 of 0" in text  # nobody waiting: no rate, never 0%
    assert "Median wait so far–" in text


def test_neurodevelopmental_has_no_nhs_line(waits_app):
    at = run_app({"period": "2023-04", "service": "NEURODEVELOPMENTAL"}, page=PAGE)
    assert any("no line for neurodevelopmental (autism and ADHD) assessment" in i.value for i in at.info)


def test_without_nhs_workbooks_the_page_says_how_to_load_them(tmp_path, monkeypatch):
    db = tmp_path / "app.duckdb"
    load_paths([write_csv(tmp_path / "referrals_2023-04-30.csv", ROWS)], db)
    monkeypatch.setenv("APP_DB", str(db))
    at = run_app({"period": "2023-01"}, page=PAGE)
    assert any("No NHS England Community Health Services workbooks are loaded" in w.value for w in at.warning)
    assert f"python -m etl published load --db {db}" in text_of(at)  # analysts run loads: the command
    monkeypatch.setenv("APP_ROLE", "leadership")  # leadership is told whom to ask, never the server's path
    text = text_of(run_app({"period": "2023-01"}, page=PAGE))
    assert "No NHS England Community Health Services workbooks are loaded" in text
    assert "Ask the dashboard's analysts to load them" in text and str(db) not in text and "python -m" not in text


def test_trajectory_page_shows_an_unplanned_waiting_list_kpi(waits_app):
    at = run_app({"period": "2023-01", "kpi": "wait_median_weeks_salt"}, page="pages/kpi_trajectory.py")
    text = text_of(at)
    assert "Median weeks waited so far for speech and language therapy" in text
    assert "18.1 weeks" in text and "median of 6 waiting" in text
    assert "none set" in text and "tracked without a plan trajectory" in text
    assert "DfE publishes no figure for therapy and assessment waiting lists" in text
    at.segmented_control(key="view").set_value("Table").run()
    assert any("median weeks waited by those waiting" in c.value for c in at.caption)
    jan = at.dataframe[0].value.set_index("Period").loc["2023-01"]
    assert jan["Denominator"] == 6 and jan["Value"] == pytest.approx(18.1)


def test_leadership_sees_suppressed_small_numbers_and_no_individual_waits(waits_app, monkeypatch):
    monkeypatch.setenv("APP_ROLE", "leadership")
    at = run_app({"period": "2023-01"}, page=PAGE)
    text = text_of(at)
    assert "Waiting at month end6" in text  # 6 is not a small number
    assert "Waiting over 52 weekscchildren" in text  # 1 child: suppressed, shown as c
    assert "Waiting over 18 weekscc of 6" in text and "⊘ Suppressed" in text
    assert "shown to analysts only" in text
    assert "By age at referral" not in text and "Longest waits" not in text
    assert len(at.dataframe) == 1  # only the NHS comparison (published figures)


def test_renaming_a_waiting_list_kpi_in_the_definitions_keeps_the_page_finding_it():
    """KPI ids have one source, the YAML: the page finds a service's KPIs by computation and service, so a renamed
    id (which `kpi validate` accepts) still fills the table and the suppression check."""
    import pandas as pd

    from kpi import definitions
    from kpi.views.waits_view import kpi_ids, service_table, suppressed_in

    text = definitions.DEFAULT_PATH.read_text()
    assert 'id: "wait_over_18wk_{service_id}"' in text  # the waiting-list block's id template
    cat = definitions.parse(text.replace("wait_over_18wk_", "long_waits_"))  # the template and SALT's plan
    assert "long_waits_ot" in cat.ids and "wait_over_18wk_ot" not in cat.ids
    assert kpi_ids("OT", cat)["over18"] == "long_waits_ot"
    series = pd.DataFrame({"kpi_id": ["waiting_list_size_ot", "long_waits_ot"], "period": ["2023-01"] * 2,
                           "value": [40.0, 25.0], "numerator": [None, 10.0], "denominator": [None, 40.0],
                           "status": [None, "suppressed"]})
    row = service_table(series, "OT", cat).iloc[0]
    assert (row["waiting"], row["over_18wk"], row["pct_over_18wk"]) == (40, 10, 25)
    assert suppressed_in(series, "OT", "2023-01", cat)["over18"] is True
