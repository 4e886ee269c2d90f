"""Board summary: SPC over the history with the KPI's settings, forecast verdicts and the sentence read aloud."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from kpi import definitions
from kpi.views.board import board, board_row, board_table, forecast_note, sort_board, spc_for

PERIODS = [f"{y}-{m:02d}" for y in (2022, 2023) for m in range(1, 13)]


def _catalogue(tmp_path, **spc):
    raw = yaml.safe_load(definitions.DEFAULT_PATH.read_text())
    raw["kpis"] = [k for k in raw["kpis"] if k.get("id") == "ehcp_20wk_excl"]
    raw["kpis"][0]["spc"] = spc or {"method": "mdc"}
    path = tmp_path / "defs.yaml"
    path.write_text(yaml.safe_dump(raw))
    return definitions.load(path)


def _series(values, trajectory=None):
    """A series whose monthly values and rolling 12-month figures (the basis ehcp_20wk_excl is judged on) are
    both ``values``."""
    n = len(values)
    return pd.DataFrame({
        "kpi_id": "ehcp_20wk_excl", "period": PERIODS[:n], "numerator": None, "denominator": None,
        "value": values, "rolling_12m": values, "median": None, "target": 49.2,
        "trajectory": trajectory or [None] * n, "status": [None] * n,
    })


def test_a_sustained_rise_reads_as_improvement_and_likely(tmp_path):
    cat = _catalogue(tmp_path)
    values = [12.0, 11.0, 13.0, 12.0, 11.5, 12.5, 12.0, 13.0, 11.0, 12.0, 12.5, 11.5,
              20.0, 24.0, 28.0, 31.0, 35.0, 38.0, 42.0]
    row = board(_series(values), cat, "2023-07").iloc[0]
    assert row["variation"] == "improvement_high"
    assert row["forecast_verdict"] == "likely"
    assert "42.0% over the 12 months to July 2023" in row["sentence"]  # the figure the plan is judged on
    assert "SPC: the latest month is part of a special-cause improvement." in row["sentence"]
    assert "likely to reach the target of 49.2% by January 2024" in row["sentence"]


def test_the_trajectory_pages_sentence_quotes_the_figure_the_status_is_judged_on(tmp_path):
    """A rolling KPI's month of 57.7% inside 12 months of 50.3%: the sentence says 50.3% over the 12 months (with
    the status judged on it), on the KPI trajectory page (no scorecard row) as on the Overview (its row)."""
    cat = _catalogue(tmp_path)
    kpi = cat.get("ehcp_20wk_excl")
    s = _series([50.0] * 18, trajectory=[50.4] * 18)
    s.loc[17, ["value", "rolling_12m", "status"]] = [57.7, 50.3, "within_tolerance"]
    alone = board_row(s, kpi, "2023-06")["sentence"]
    assert "was 50.3% over the 12 months to June 2023 against a planned 50.4% (within tolerance)" in alone
    assert "57.7%" not in alone
    assert board(s, cat, "2023-06").iloc[0]["sentence"] == alone


def test_a_figure_just_under_its_trajectory_is_never_printed_equal_to_it(tmp_path):
    """521 of 869 (59.95%) against a planned 60.0% is within tolerance, not on track: the sentence and the table
    print 59.95% against 60.00%, so what the page shows supports the status it gives."""
    cat = _catalogue(tmp_path)
    s = _series([55.0] * 17 + [521 / 869 * 100], trajectory=[60.0] * 18)
    s.loc[17, "status"] = "within_tolerance"
    row = board(s, cat, "2023-06")
    assert "was 59.95% over the 12 months to June 2023 against a planned 60.00% (within tolerance)" in \
        row.iloc[0]["sentence"]
    table = board_table(row, cat).iloc[0]
    assert (table["Value"], table["Trajectory"]) == ("59.95%", "60.00%")


def test_a_suppressed_figure_is_said_so_with_why_a_12_month_figure_is_hidden_too(tmp_path):
    cat = _catalogue(tmp_path)
    s = _series([50.0] * 18, trajectory=[50.0] * 18)
    s.loc[17, ["value", "rolling_12m", "status"]] = [None, None, "suppressed"]
    said = board(s, cat, "2023-06").iloc[0]["sentence"]
    assert said.startswith("EHCPs within 20 weeks (excl. exceptions): the 12 months to June 2023 are suppressed "
                           "(small numbers in them, or in one of their months, which the 12-month figure would give "
                           "away).")


def test_recalculation_starts_new_limits_at_the_configured_month(tmp_path):
    cat = _catalogue(tmp_path, method="mdc", recalculations=[{"period": "2023-01", "reason": "New triage"}])
    values = [12.0 + (i % 3) for i in range(12)] + [40.0 + (i % 3) for i in range(7)]
    periods, result = spc_for(_series(values), cat.get("ehcp_20wk_excl"), "2023-07")
    pts = result.points
    assert list(pts["segment"]) == [0] * 12 + [1] * 7
    assert pts["mean"].iloc[0] == pytest.approx(13.0)
    assert pts["mean"].iloc[-1] == pytest.approx(sum(40.0 + (i % 3) for i in range(7)) / 7)
    assert periods[12] == "2023-01"


def test_months_without_a_value_are_left_out_of_spc(tmp_path):
    cat = _catalogue(tmp_path)
    values = [10.0, None, 12.0] + [11.0] * 12
    periods, result = spc_for(_series(values), cat.get("ehcp_20wk_excl"), "2023-03")
    assert "2022-02" not in periods and len(result.points) == 14


def test_twelve_points_or_fewer_give_no_icons(tmp_path):
    cat = _catalogue(tmp_path)
    row = board(_series([12.0] * 12), cat, "2022-12").iloc[0]
    assert row["variation"] is None
    assert row["variation_label"] == "Too few points for SPC"


def test_after_the_target_month_the_sentence_says_met_or_missed(tmp_path):
    cat = _catalogue(tmp_path)
    values = [20.0] * 24
    values[PERIODS.index("2023-12")] = 55.0  # irrelevant: the target month is January 2024
    s = pd.concat([_series(values), _series([50.0]).assign(period="2024-01")], ignore_index=True)
    row = board(s, cat, "2024-01").iloc[0]
    assert row["forecast_verdict"] == "met"
    assert "It met the target of 49.2% by January 2024." in row["sentence"]


def test_spc_settings_are_validated(tmp_path):
    raw = yaml.safe_load(definitions.DEFAULT_PATH.read_text())
    raw["kpis"][0]["spc"] = {"method": "mdc", "recalculations": [{"period": "2023-05", "reason": "x"}]}
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(definitions.DefinitionError) as err:
        definitions.load(path)
    assert "spc.recalculations.0.reason" in " ".join(err.value.problems)
    raw["kpis"][0]["spc"] = {"recalculations": [{"period": "2023-05", "reason": "new triage"},
                                                {"period": "2022-05", "reason": "older"}]}
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(definitions.DefinitionError) as err:
        definitions.load(path)
    assert "date order" in " ".join(err.value.problems)


def test_short_segments_warn(tmp_path):
    cat = _catalogue(tmp_path, recalculations=[{"period": "2024-06", "reason": "new triage"}])
    warnings = definitions.spc_warnings(cat, "2019-01", "2024-12")
    assert any("from 2024-06 has only 7 months" in w for w in warnings)
    assert definitions.spc_warnings(definitions.load(), "2019-01", "2024-12") == []


def _board_rows(**columns):
    """A hand-made board for the ordering tests: one row per KPI of the real catalogue, in plan order."""
    cat = definitions.load()
    ids = cat.ids
    base = {"kpi_id": ids, "status": ["on_track"] * len(ids), "variation": ["common_cause"] * len(ids),
            "assurance": ["inconsistent"] * len(ids), "forecast_verdict": ["uncertain"] * len(ids)}
    for col, changes in columns.items():
        for kpi_id, value in changes.items():
            base[col][ids.index(kpi_id)] = value
    return cat, pd.DataFrame(base)


def test_board_orders_put_what_needs_discussing_first_and_keep_plan_order_for_ties():
    cat, rows = _board_rows(status={"ar_overdue": "off_track", "not_issue_16wk": None,
                                    "request_decision_6wk": "within_tolerance"})
    by_status = list(sort_board(rows, cat, "status")["kpi_id"])
    assert by_status[:2] == ["ar_overdue", "request_decision_6wk"]  # off track, then within tolerance
    assert by_status[-1] == "not_issue_16wk"  # not in plan goes last
    assert by_status[2:-1] == [k for k in cat.ids if k not in ("ar_overdue", "request_decision_6wk",
                                                                   "not_issue_16wk")]
    assert list(sort_board(rows, cat, "plan")["kpi_id"]) == cat.ids


def test_board_orders_by_variation_assurance_and_forecast():
    cat, rows = _board_rows(variation={"ar_overdue": "concern_high", "ehcp_20wk_excl": "improvement_high"},
                            assurance={"ar_decision_4wk": "consistent_fail", "ehcp_20wk_incl": "consistent_pass"},
                            forecast_verdict={"not_issue_16wk": "unlikely", "ehcp_weeks_to_issue": "not_met",
                                              "ehcp_20wk_excl": "likely"})
    assert list(sort_board(rows, cat, "variation")["kpi_id"])[0] == "ar_overdue"
    assert list(sort_board(rows, cat, "variation")["kpi_id"])[-1] == "ehcp_20wk_excl"
    assert list(sort_board(rows, cat, "assurance")["kpi_id"])[0] == "ar_decision_4wk"
    assert list(sort_board(rows, cat, "assurance")["kpi_id"])[-1] == "ehcp_20wk_incl"
    assert list(sort_board(rows, cat, "forecast")["kpi_id"])[:2] == ["ehcp_weeks_to_issue", "not_issue_16wk"]
    with pytest.raises(ValueError, match="unknown sort key"):
        sort_board(rows, cat, "colour")


def test_forecast_note_only_for_a_live_forecast():
    assert forecast_note(41.23, 30.14, 52.3, "uncertain", "percent", 1) == \
        "forecast 41.2% (80% interval 30.1% to 52.3%)"
    assert forecast_note(20.0, 19.0, 21.0, "likely", "weeks", 1) == "forecast 20.0 weeks (80% interval 19.0 weeks " \
        "to 21.0 weeks)"
    assert forecast_note(50.0, 50.0, 50.0, "met", "percent", 1) is None
    assert forecast_note(None, None, None, "too_few", "percent", 1) is None


def test_board_table_says_everything_in_words(tmp_path):
    cat = _catalogue(tmp_path)
    values = [12.0, 11.0, 13.0, 12.0, 11.5, 12.5, 12.0, 13.0, 11.0, 12.0, 12.5, 11.5,
              20.0, 24.0, 28.0, 31.0, 35.0, 38.0, 42.0]
    trajectory = [None] * 13 + [20.0, 23.0, 26.0, 30.0, 33.0, 36.0]
    s = _series(values, trajectory)
    s["status"] = [None] * 13 + ["on_track"] * 6
    table = board_table(board(s, cat, "2023-07"), cat)
    row = table.iloc[0]
    assert list(table.columns) == ["KPI", "Value", "Trajectory", "Status", "Change since last month",
                                   "Last month's status", "Target", "Forecast", "Variation", "Assurance", "Basis",
                                   "Month's own value", "APP area", "Summary"]
    assert row["Basis"] == "12 months to the month"
    assert (row["Value"], row["Trajectory"], row["Status"]) == ("42.0%", "36.0%", "✔ On track")
    # since June (38.0%), in the KPI's unit and with its meaning; the plan's target; June's status in words
    assert row["Change since last month"] == "▲ 4.0 pts, better"
    assert row["Target"] == "49.2% by January 2024"
    assert row["Last month's status"] == "✔ On track"
    assert row["Variation"] == "Special cause: improvement (higher)"
    assert row["Forecast"].startswith("Likely to reach target: forecast ")
    assert row["Summary"].startswith("EHCPs within 20 weeks (excl. exceptions) was 42.0% over the 12 months to "
                                     "July 2023 against a "
                                     "planned 36.0% (on track).")


def test_board_table_says_last_months_status_the_target_and_a_suppressed_value(tmp_path):
    """Last month's status is its own (here off track, not this month's); a suppressed figure reads 'c', not '–'."""
    cat = _catalogue(tmp_path)
    values = [30.0] * 17 + [None, None]
    s = _series(values, [None] * 13 + [30.0] * 6)
    s["status"] = [None] * 13 + ["on_track"] * 3 + ["off_track", "suppressed", "suppressed"]
    june = board_table(board(s, cat, "2023-06"), cat).iloc[0]
    assert (june["Value"], june["Status"], june["Last month's status"]) == ("c", "⊘ Suppressed", "✖ Off track")
    assert june["Month's own value"] == "c"  # hidden as the card hides it, never '–' (no data)
    assert june["Change since last month"] == "No comparison"
    january_2022 = board_table(board(s, cat, "2022-01"), cat).iloc[0]  # the first month: nothing before it
    assert january_2022["Last month's status"] == "Not in plan"

