"""The Streamlit pages, run server-side with AppTest on a small hand-built database whose numbers are known.

The extract (``plan_extract``): from January 2022 to September 2023, on the 15th of each month, one plan issued
100 days after the request (within 20 weeks) and one issued 200 days after (late); June 2023 has two extra late
plans and August 2023 no timely one. Three requests agreed for assessment in January 2023 stay open.
So in July 2023: 1 of 2 plans within 20 weeks = 50.0% (June: 1 of 4 = 25.0%, so ▲ 25.0 pts, better), against a
trajectory of 30.0% (on track); mean weeks to issue (100 + 200) / 2 / 7 = 21.4; 3 open assessments over 20 weeks.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest

import kpi.views.charts
from etl.db import connect
from kpi import definitions
from tests.support.app import TRAJECTORY_PAGE, plan_extract, run_app, text_of

pytestmark = pytest.mark.slow  # pages run under streamlit's AppTest (~2 s each): make test


def test_overview_shows_hand_computed_values_for_the_chosen_month(app_db):
    at = run_app({"period": "2023-07"})
    text = text_of(at)
    assert "Accelerated Progress Plan 2023–24 (demo area)" in text
    assert "February 2023 – January 2024" in text
    assert "Overview: July 2023" in text
    # judged on the 12 months to July 2023 (the basis of its calendar-year baseline): 12 of 26 plans on time; the
    # month alone beside it. July 2022 (1 of 2) left the window as July 2023 (1 of 2) came in: no change.
    assert "12 months to July 2023" in text and "46.2%" in text and "12 of 26" in text
    assert "July 2023 alone: 50.0% (1 of 2)" in text
    assert "No change" in text
    assert "30.0%" in text  # the trajectory for July 2023
    assert "✔ On track" in text and "– No data" in text
    assert "21.4 weeks" in text
    # 2 SEN2 KPIs without review data, 2 planned waiting-list KPIs without a referral extract,
    # 8 planned local-extract KPIs without local extracts
    assert "6 on track · 0 within tolerance · 0 off track · 12 no data · 31 not in plan in July 2023" in text
    assert "Target 49.2% by January 2024 (England average for 2022 (DfE, June 2023))" in text


def test_off_track_month_is_said_in_words(build_db, monkeypatch):
    b = plan_extract()
    for _ in range(20):  # August 2023: 20 more plans issued late, none on time
        b.issued_plan("2023-01-01", "2023-08-20")
    monkeypatch.setenv("APP_DB", str(build_db(b)))
    text = text_of(run_app({"period": "2023-08"}))
    assert "August 2023 alone: 0.0% (0 of 21)" in text
    assert "24.4%" in text and "11 of 45" in text  # the 12 months to August: 24.4% against a planned 33.3%
    assert "✖ Off track" in text
    assert "▼ 21.7 pts, worse" in text  # from 46.2% over the 12 months to July


def test_default_month_is_the_latest_with_data_and_goes_into_the_url(app_db):
    at = run_app()
    assert at.sidebar.selectbox(key="period").value == "2023-09"
    assert at.query_params["period"] == "2023-09"
    assert "Overview: September 2023" in text_of(at)


def test_month_chosen_in_the_sidebar_is_written_to_the_url(app_db):
    at = run_app({"period": "2023-07"})
    at.sidebar.selectbox(key="period").set_value("2023-08").run()
    assert at.query_params["period"] == "2023-08"
    assert "Overview: August 2023" in text_of(at)


def test_stocktake_button_replays_july_2023(app_db):
    at = run_app()
    at.button(key="jump_6-month stocktake").click().run()
    assert at.sidebar.selectbox(key="period").value == "2023-07"
    assert at.query_params["period"] == "2023-07"


def test_invalid_month_in_the_link_falls_back_with_a_note(app_db):
    at = run_app({"period": "2031-13"})
    assert at.sidebar.selectbox(key="period").value == "2023-09"
    assert any("2031-13" in i.value and "September 2023" in i.value for i in at.info)


def test_trajectory_page_opens_on_the_kpi_and_month_in_the_link(app_db):
    at = run_app({"period": "2023-07", "kpi": "ehcp_weeks_to_issue"}, page=TRAJECTORY_PAGE)
    assert at.selectbox(key="kpi").value == "ehcp_weeks_to_issue"
    text = text_of(at)
    assert "Average weeks from request to final EHC plan" in text
    assert [h.value for h in at.header] == ["Weeks from request to plan (mean)"]  # as the selector names it
    assert "21.4 weeks" in text and "25.0 weeks" in text  # value and trajectory for July 2023
    assert "Lower is better" in text
    assert "SEND Regulations 2014, reg 13(2)" in text
    assert at.query_params["kpi"] == "ehcp_weeks_to_issue"
    assert [c.key for c in at.get("plotly_chart")] == ["trajectory", "spc"]  # the plan chart, then the XmR chart
    assert "Statistical process control" in [s.value for s in at.subheader]
    assert "XmR chart of every month with a value from January 2022 to July 2023 (19 months" in text


def test_unknown_kpi_in_the_link_falls_back_with_a_note(app_db):
    at = run_app({"kpi": "no_such_kpi"}, page=TRAJECTORY_PAGE)
    assert at.selectbox(key="kpi").value == "ehcp_20wk_excl"
    assert any("no_such_kpi" in i.value for i in at.info)


def test_trajectory_table_and_csv_hold_exactly_the_shown_columns(app_db, monkeypatch):
    exported: list[bytes] = []
    original = kpi.views.charts.table_csv
    monkeypatch.setattr(kpi.views.charts, "table_csv", lambda frame: exported.append(original(frame)) or exported[-1])
    at = run_app({"period": "2023-07", "kpi": "ehcp_20wk_excl"}, page=TRAJECTORY_PAGE)
    at.segmented_control(key="view").set_value("Table").run()
    assert not at.exception
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["Period", "Numerator", "Denominator", "Value", "Rolling 12-month", "Judged on",
                                   "Complete month", "Trajectory", "Target", "Status"]
    july = shown.set_index("Period").loc["2023-07"]
    assert (july["Numerator"], july["Denominator"], july["Value"], july["Rolling 12-month"]) == (1, 2, 50.0, 46.2)
    assert july["Trajectory"] == 30.0 and july["Status"] == "On track" and july["Judged on"] == "Rolling 12 months"
    assert shown["Period"].max() == "2023-07"  # the months to the month shown, never later ones
    assert shown.set_index("Period").loc["2022-07", "Status"] == "Not in plan"
    csv = pd.read_csv(io.BytesIO(exported[-1]), dtype={"Period": str})
    assert [c for c in csv.columns if c in shown.columns] == list(shown.columns)  # what is shown, in its order
    assert [c for c in csv.columns if c not in shown.columns] == [  # and what a reader of the file alone needs
        "KPI", "KPI id", "Unit", "Change since last month", "Suppression note"]
    assert len(csv) == len(shown)
    assert csv.set_index("Period").loc["2023-07", "Change since last month"] == pytest.approx(
        46.2 - shown.set_index("Period").loc["2023-06", "Rolling 12-month"])
    assert csv.set_index("Period").loc["2023-07", "Value"] == 50.0
    assert at.get("download_button")[0].proto.label.startswith("Download")
    october = run_app({"period": "2023-10", "kpi": "ehcp_20wk_excl"}, page=TRAJECTORY_PAGE)
    october.segmented_control(key="view").set_value("Table").run()
    assert october.dataframe[0].value.set_index("Period").loc["2023-10", "Complete month"] == "No (partial)"


def test_missing_database_shows_how_to_get_data(tmp_path, monkeypatch):
    monkeypatch.setenv("APP_DB", str(tmp_path / "none.duckdb"))
    at = run_app()
    text = text_of(at)
    assert "No database yet" in text
    assert "make run" in text and "python -m etl demo" in text and "python -m etl load PATH" in text


def test_empty_database_shows_how_to_get_data(tmp_path, monkeypatch):
    db = tmp_path / "empty.duckdb"
    connect(db).close()
    monkeypatch.setenv("APP_DB", str(db))
    text = text_of(run_app())
    assert "holds no case records yet" in text and "make run" in text


def test_overview_is_the_board_summary_with_spc_forecast_and_a_sentence(app_db):
    text = text_of(run_app({"period": "2023-07"}))
    # The sentence a chair reads aloud, from the hand-computed July 2023 values.
    assert ("EHCPs within 20 weeks (excl. exceptions) was 46.2% over the 12 months to July 2023 against a planned "
            "30.0% (on track)." in text)
    assert "Weeks from request to plan (mean) was 22.0 weeks over the 12 months to July 2023" in text
    for label in ("Variation", "Assurance", "Forecast for the target month"):
        assert label in text
    # 19 monthly values from January 2022: enough for XmR limits, so every rate gets a variation label in words.
    assert "Common cause variation" in text or "Special cause" in text
    assert "Too few points for SPC" in text  # the KPIs with no events in the fixture


def test_board_table_view_is_sortable_and_downloads_what_it_shows(app_db):
    at = run_app({"period": "2023-07"})
    at.selectbox(key="board_sort").set_value("status").run()
    at.segmented_control(key="board_view").set_value("Table").run()
    assert not at.exception
    shown = at.dataframe[-1].value  # after the "since the last meeting" table
    assert list(shown.columns) == ["KPI", "Value", "Trajectory", "Status", "Status at last meeting",
                                   "Change since last month", "Last month's status", "Target", "Forecast",
                                   "Variation", "Assurance", "Basis", "Month's own value", "APP area", "Summary"]
    # worst first: no data (2 SEN2 KPIs without review data, 2 planned waiting-list KPIs without a referral
    # extract, 8 planned local-extract KPIs without local extracts) before on track, and the KPIs tracked without a
    # plan left out until asked for, then last
    assert list(shown["Status"][:12]) == ["– No data"] * 12
    assert set(shown["Status"][12:18]) == {"✔ On track"}
    assert len(shown) == 18
    at.toggle(key="board_all").set_value(True).run()
    everything = at.dataframe[-1].value
    assert len(everything) == len(definitions.load().kpis)
    assert set(everything["Status"][18:]) == {"Not in plan"}
    july = shown.set_index("KPI").loc["EHCPs within 20 weeks (excl. exceptions)"]
    assert (july["Value"], july["Month's own value"], july["Trajectory"]) == ("46.2%", "50.0%", "30.0%")
    assert july["Basis"] == "12 months to the month"
    download = at.get("download_button")[0]
    assert download.proto.label == "Download the board summary (CSV)"


def test_board_summary_download_carries_month_unit_counts_and_the_suppression_note(app_db, monkeypatch):
    """The Overview's CSV is the table shown plus what a reader of the file alone needs (kpi/views/exports.py)."""
    made = []
    original = kpi.views.charts.table_csv
    monkeypatch.setattr(kpi.views.charts, "table_csv", lambda frame: made.append(frame) or original(frame))
    at = run_app({"period": "2023-07"})
    assert not at.exception
    assert at.get("download_button")[0].proto.label == "Download the board summary (CSV)"
    board = next(f for f in made if "Summary" in f.columns)
    csv = pd.read_csv(io.BytesIO(original(board)), dtype=str, keep_default_na=False)
    assert list(csv.columns[:4]) == ["Month", "KPI", "KPI id", "Unit"]
    for column in ("Numerator", "Denominator", "Target", "Change since last month", "Last month's status",
                   "Suppression note"):
        assert column in csv.columns
    july = csv.set_index("KPI id").loc["ehcp_20wk_excl"]
    assert (july["Month"], july["Unit"], july["Value"]) == ("2023-07", "percent", "46.2%")
    assert int(july["Numerator"]) < int(july["Denominator"])  # the 12 months' counts behind 46.2%
