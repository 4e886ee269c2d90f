"""CSV exports (kpi/views/exports.py): every download carries the month, the KPI's name and unit, the target, the
change, the numerator and denominator and a suppression note, and never a count the reader may not see."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.access.suppress import SuppressionRule, suppress_series
from kpi.views import charts, exports
from kpi.views.board import board, board_table

RATE, COUNT = "wait_over_18wk_salt", "ar_overdue"  # a percentage and a month-end count, both judged on the month


def _series(catalogue) -> pd.DataFrame:
    """June and July 2023 for a rate (3 of 40 in July: a small numerator) and a count (2 in July: small)."""
    rate, count = catalogue.get(RATE), catalogue.get(COUNT)
    rows = []
    for kpi, june, july in ((rate, (20.0, 50, 40.0), (3.0, 40, 7.5)), (count, (9.0, None, 9.0), (2.0, None, 2.0))):
        for period, (n, d, v) in (("2023-06", june), ("2023-07", july)):
            rows.append({"kpi_id": kpi.id, "period": period, "numerator": n, "denominator": d, "value": v,
                         "rolling_12m": None, "median": None, "basis": "month", "complete": True,
                         "target": kpi.plan.target.value, "trajectory": 30.0 if kpi is rate else 10.0,
                         "status": "on_track"})
    out = pd.DataFrame(rows)
    out["denominator"] = out["denominator"].astype("Float64")
    return out


def _board_export(catalogue, series):
    b = board(series, catalogue, "2023-07")
    b = b[b["kpi_id"].isin([RATE, COUNT])]
    return exports.board_export(b, board_table(b, catalogue), "2023-07", catalogue).set_index("KPI id", drop=False)


@pytest.fixture
def suppressed(catalogue):
    units = {k.id: k.unit for k in catalogue.kpis}
    return suppress_series(_series(catalogue), units, SuppressionRule())


def test_board_csv_carries_month_kpi_unit_target_change_counts_and_note(catalogue):
    out = _board_export(catalogue, _series(catalogue))
    assert list(out.columns[:8]) == ["Month", "KPI", "KPI id", "Unit", "Value", "Numerator", "Denominator",
                                     "Trajectory"]
    for column in ("Target", "Change since last month", "Status", "Last month's status"):
        assert column in out.columns
    rate = out.loc[RATE]
    assert (rate["Month"], rate["Unit"], rate["Value"], rate["Numerator"], rate["Denominator"]) == (
        "2023-07", "percent", "7.5%", "3", "40")
    assert rate["Change since last month"] == "▼ 32.5 pts, better"  # the waiting list's lower share is better
    assert rate["Target"].endswith(charts.format_period(catalogue.get(RATE).plan.target.period))
    assert out.loc[COUNT, "Numerator"] == "2" and out.loc[COUNT, "Denominator"] == ""
    assert (out[exports.NOTE] == "").all()  # exact figures: nothing suppressed, nothing to say


def test_board_csv_keeps_suppressed_cells_suppressed_and_says_why(catalogue, suppressed):
    out = _board_export(catalogue, suppressed)
    rate, count = out.loc[RATE], out.loc[COUNT]
    assert (rate["Value"], rate["Numerator"], rate["Denominator"]) == ("c", "c", "40")  # 40 is safe to show
    assert (count["Value"], count["Numerator"]) == ("c", "c")
    assert rate["Status"] == "⊘ Suppressed"
    note = exports.suppression_note(SuppressionRule())
    assert (out[exports.NOTE] == note).all() and "1 to 4 children" in note
    text = charts.table_csv(out).decode()
    for small in (",3,", ",2,", ",7.5", ",2.0"):  # neither small count nor the rate that would give it back
        assert small not in text


def test_trajectory_csv_adds_kpi_unit_change_and_note_and_keeps_c(catalogue, suppressed):
    kpi = catalogue.get(RATE)
    rows = suppressed[suppressed["kpi_id"] == RATE]
    out = exports.trajectory_export(charts.table_frame(rows, kpi), kpi)
    assert list(out.columns[:4]) == ["Period", "KPI", "KPI id", "Unit"]
    assert list(out.columns[-3:]) == ["Change since last month", "Status", exports.NOTE]
    july, june = out.iloc[0], out.iloc[1]  # newest first
    assert (july["Numerator"], july["Value"], july["Denominator"]) == ("c", "c", "40")
    assert pd.isna(july["Change since last month"])  # from a hidden value: no change to give it back
    assert july[exports.NOTE].startswith("c: suppressed") and june[exports.NOTE] == ""
    exact = exports.trajectory_export(charts.table_frame(_series(catalogue).query("kpi_id == @RATE"), kpi), kpi)
    assert exact["Change since last month"].tolist()[0] == pytest.approx(-32.5)
    assert (exact[exports.NOTE] == "").all()


def test_export_frame_adds_only_missing_context_in_order():
    frame = pd.DataFrame({"KPI": ["a", "b"], "Value": ["c", "5"]})
    out = exports.export_frame(frame, {"Month": "2023-07", "KPI": "ignored", "Unit": ["count", "count"]},
                               SuppressionRule(min_count=1, max_count=9))
    assert list(out.columns) == ["Month", "KPI", "Unit", "Value", exports.NOTE]
    assert out["KPI"].tolist() == ["a", "b"]
    assert out[exports.NOTE].tolist() == [exports.suppression_note(SuppressionRule(max_count=9)), ""]
    assert "1 to 9 children" in out[exports.NOTE].iloc[0]


def test_portfolio_and_benchmark_csvs_name_their_month_kpi_and_target(catalogue):
    portfolio = exports.portfolio_export(pd.DataFrame({"area_code": ["E06000056"], "on_track": [3]}), "2023-07")
    assert list(portfolio.columns) == ["month", "area_code", "on_track", exports.NOTE]
    assert portfolio["month"].tolist() == ["2023-07"]
    kpi = catalogue.get("ehcp_20wk_excl")
    shown = pd.DataFrame({"Area": ["England"], "Value": ["50.3%"], "Numerator": [1], "Denominator": [2]})
    bench = exports.benchmark_export(shown, kpi, 2023)
    assert list(bench.columns[:6]) == ["Year", "KPI", "KPI id", "Unit", "Target", "Target month"]
    assert bench.iloc[0][["Year", "KPI", "Unit", "Target"]].tolist() == [
        2023, kpi.short_name, "percent", kpi.plan.target.value]
