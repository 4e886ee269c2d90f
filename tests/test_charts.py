"""Formatting helpers and figure builders in kpi/views/charts.py: units, change with polarity, status words, traces."""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from kpi.engine.series import add_plan
from kpi.engine.trajectory import month_index, period_of
from kpi.views import charts, palette


@pytest.mark.parametrize(("value", "trajectory", "decimals", "told"), [
    (521 / 869 * 100, 60.0, 1, 2),  # 59.95% against 60%: '59.95%' against '60.00%', not '60.0%' against '60.0%'
    (59.94, 60.0, 1, 1),  # 59.9% against 60.0%: the KPI's own decimals already tell them apart
    (60.0, 60.0, 1, 1),  # equal: nothing to tell apart
    (59.9999, 60.0, 1, 1),  # two extra decimals still print them the same: the KPI's own, not '60.000%' twice
    (0.1 + 0.2, 0.3, 1, 1),  # float noise is not a difference
    (None, 60.0, 1, 1), (59.95, None, 1, 1), (math.nan, 60.0, 1, 1),  # nothing to set against
    (29.6, 30.0, 0, 1),  # a count judged against a fractional trajectory
])
def test_a_figure_and_its_trajectory_are_printed_at_decimals_that_tell_them_apart(value, trajectory, decimals,
                                                                                  told):
    assert charts.telling_decimals(value, trajectory, decimals) == told


@pytest.mark.parametrize(("value", "unit", "decimals", "expected"), [
    (48.8, "percent", 1, "48.8%"),
    (48.84, "percent", 1, "48.8%"),
    (50, "percent", 1, "50.0%"),
    (132, "count", 0, "132"),
    (1234, "count", 0, "1,234"),
    (23.43, "weeks", 1, "23.4 weeks"),
    (None, "percent", 1, "–"),
    (math.nan, "weeks", 1, "–"),
    (pd.NA, "count", 0, "–"),
])
def test_format_value_by_unit(value, unit, decimals, expected):
    assert charts.format_value(value, unit, decimals) == expected


@pytest.mark.parametrize(("delta", "unit", "decimals", "polarity", "expected"), [
    (3.2, "percent", 1, "up", "▲ 3.2 pts, better"),
    (-3.2, "percent", 1, "up", "▼ 3.2 pts, worse"),
    (-9, "count", 0, "down", "▼ 9, better"),
    (0.7, "weeks", 1, "down", "▲ 0.7 weeks, worse"),
    (0.0, "percent", 1, "up", "No change"),
    (0.04, "percent", 1, "up", "No change"),  # rounds to zero as displayed
    (None, "percent", 1, "up", "No comparison"),
])
def test_format_change_says_direction_and_meaning(delta, unit, decimals, polarity, expected):
    assert charts.format_change(delta, unit, decimals, polarity) == expected


def test_format_basis_by_unit():
    assert charts.format_basis(271, 555, "percent") == "271 of 555"
    assert charts.format_basis(0, 0, "percent") == "none in the month"
    assert charts.format_basis(1987.0, 73, "weeks", 24.71) == "mean of 73 plans; median 24.7"
    assert charts.format_basis(91, None, "count") == "count at month end"


def test_periods_windows_and_plan_months(catalogue):
    window = catalogue.plan_window
    assert charts.format_period("2023-07") == "July 2023"
    assert charts.format_window(window) == "February 2023 – January 2024"
    assert charts.format_date("2023-01-31") == "31 January 2023"
    assert charts.plan_month("2023-07", window) == 6
    assert charts.plan_month("2023-01", window) is None
    assert charts.plan_month("2024-01", window) == 12
    assert charts.stocktakes(window) == [("6-month stocktake", "2023-07"), ("End of plan", "2024-01")]
    assert charts.recent_periods("2023-02", 3) == ["2022-12", "2023-01", "2023-02"]


def test_status_in_words_and_symbols():
    assert charts.status_text("on_track") == "✔ On track"
    assert charts.status_text("within_tolerance") == "◐ Within tolerance"
    assert charts.status_text("off_track") == "✖ Off track"
    assert charts.status_text("no_data") == "– No data"
    assert charts.status_text(None) == "Not in plan"
    assert charts.status_text(math.nan) == "Not in plan"
    statuses = ["on_track"] * 3 + ["within_tolerance"] * 2 + ["off_track"] * 3
    assert charts.status_summary(statuses, "2023-07") == "3 on track · 2 within tolerance · 3 off track in July 2023"
    assert charts.status_summary(["on_track", None, "no_data"], "2023-07") == (
        "1 on track · 0 within tolerance · 0 off track · 1 no data · 1 not in plan in July 2023")
    assert charts.status_summary([None, None], "2021-06") == "No KPI has a plan trajectory in June 2021"


def _on_basis(kpi, basis):
    """The KPI with its plan judged on ``basis`` instead (the figures below are made up either way)."""
    return kpi.model_copy(update={"plan": kpi.plan.model_copy(update={"basis": basis})})


def _rows(catalogue, kpi_id="ehcp_20wk_excl", basis=None):
    """A KPI's series as the engine returns it, on made-up values from 2022-01 to 2023-12."""
    periods = [period_of(month_index("2022-01") + i) for i in range(24)]
    df = pd.DataFrame({
        "kpi_id": kpi_id, "period": periods, "numerator": [float(i % 5) for i in range(24)],
        "denominator": pd.array([10] * 23 + [0], dtype="Int64"),
    })
    df["value"] = (100 * df["numerator"] / df["denominator"].astype(float)).where(df["denominator"] > 0)
    df["rolling_12m"] = df["value"].rolling(12).mean()
    df["median"] = math.nan
    kpi = catalogue.get(kpi_id)
    return add_plan(df, _on_basis(kpi, basis) if basis else kpi)


def test_add_plan_leaves_months_before_the_baseline_without_target_or_status(catalogue):
    rows = _rows(catalogue).set_index("period")
    assert pd.isna(rows.loc["2022-12", "status"]) and pd.isna(rows.loc["2022-12", "target"])
    assert pd.isna(rows.loc["2023-01", "status"]) and rows.loc["2023-01", "trajectory"] == 12.0  # the baseline
    assert rows.loc["2023-02", "status"] in {"on_track", "within_tolerance", "off_track"}
    assert rows.loc["2023-12", "status"] == "no_data"


def test_trajectory_figure_has_actual_trajectory_target_status_and_plan_window(catalogue):
    kpi = catalogue.get("ehcp_20wk_excl")
    fig = charts.trajectory_figure(_rows(catalogue), kpi, catalogue.plan_window, selected="2023-07")
    names = [t.name for t in fig.data]
    assert "Monthly value" in names  # beside the rolling line the plan is judged on
    assert "Trajectory (plan)" in names
    assert "Rolling 12 months (judged against the plan)" in names
    judged = fig.data[names.index("Rolling 12 months (judged against the plan)")]
    marks = [t for t in fig.data if t.name and t.name.endswith("Off track")][0]
    assert set(marks.y) <= set(judged.y)  # status is marked on the line judged, not on the monthly values
    assert "Target: 49.2% by January 2024" in names
    assert "Baseline and milestones" in names
    assert any(n.endswith("Off track") for n in names)
    trajectory = fig.data[names.index("Trajectory (plan)")]
    assert trajectory.line.dash == "dash"
    assert len(trajectory.x) == 12  # January 2023 (baseline) to December 2023
    status_traces = [t for t in fig.data if t.name in {charts.status_text(s) for s in charts.STATUS_MARKERS}]
    assert {t.marker.symbol for t in status_traces} <= {"circle", "diamond", "x"}
    shapes = {s.name: s for s in fig.layout.shapes}
    assert pd.Timestamp(shapes["plan window"].x0) == pd.Timestamp("2023-02-01")
    assert pd.Timestamp(shapes["plan window"].x1) == pd.Timestamp("2024-01-31")
    assert pd.Timestamp(shapes["selected period"].x0) == pd.Timestamp("2023-07-01")
    assert list(fig.layout.yaxis.range) == [0, 100]


def _window_label(fig):
    return next(a for a in fig.layout.annotations if a.text == "APP monitoring window")


def test_the_plan_window_label_stays_inside_the_plot(catalogue):
    """Opening in the left half of the range shown, the label starts at the window; opening in the right half, it
    ends at the window's visible right edge instead of running past the plot on a narrow screen."""
    kpi = catalogue.get("ehcp_20wk_excl")
    fig = charts.trajectory_figure(_rows(catalogue), kpi, catalogue.plan_window, history_months=0)
    label = _window_label(fig)  # the view opens on the window itself
    assert (label.xanchor, pd.Timestamp(label.x)) == ("left", pd.Timestamp("2023-02-01"))
    fig = charts.trajectory_figure(_rows(catalogue), kpi, catalogue.plan_window)  # 13 months before, 11 in it
    label, (_, end) = _window_label(fig), fig.layout.xaxis.range
    assert label.xanchor == "right" and pd.Timestamp(label.x) == pd.Timestamp(end)


def test_trajectory_figure_shows_the_month_as_it_stood(catalogue):
    kpi = catalogue.get("ehcp_20wk_excl")
    fig = charts.trajectory_figure(_rows(catalogue), kpi, catalogue.plan_window, selected="2023-07")
    by_name = {t.name: t for t in fig.data}
    for name in ("Monthly value", "Rolling 12 months (judged against the plan)"):  # the figures stop at the month
        assert max(pd.Timestamp(x) for x in by_name[name].x) == pd.Timestamp("2023-07-01")
    assert all(pd.Timestamp(x) <= pd.Timestamp("2023-07-01") for t in fig.data if t.name.endswith("track")
               for x in t.x)
    assert len(by_name["Trajectory (plan)"].x) == 12  # the plan, known then, runs on to its end
    after = {s.name: s for s in fig.layout.shapes}["after the selected period"]  # greyed
    assert pd.Timestamp(after.x0) == pd.Timestamp("2023-07-31")
    star = by_name["Target: 49.2% by January 2024"]  # the target marker is in the legend
    assert star.marker.symbol == "star" and star.showlegend is not False and star.mode == "markers"
    whole = charts.trajectory_figure(_rows(catalogue), kpi, catalogue.plan_window)
    assert len({t.name: t for t in whole.data}["Monthly value"].x) == 24
    assert "after the selected period" not in {s.name for s in whole.layout.shapes}


def test_trajectory_figure_gives_status_colours_to_status_markers_only(catalogue):
    fig = charts.trajectory_figure(_rows(catalogue), catalogue.get("ehcp_20wk_excl"), catalogue.plan_window)
    status = set(palette.STATUS.values())
    status_names = {charts.status_text(s) for s in palette.STATUS}
    for t in fig.data:
        used = {t.line.color, t.marker.color, t.marker.line.color} - {None}
        if t.name in status_names:
            assert used & status
        else:
            assert not used & status, t.name
    plan = [t for t in fig.data if t.name.startswith(("Trajectory", "Target", "Baseline"))]
    assert len(plan) == 4  # trajectory, baseline and milestones, the target's line and its star
    for t in plan:
        assert {t.line.color, t.marker.color, t.marker.line.color} - {None, "white"} == {palette.SERIES["plan"]}


def test_trajectory_figure_without_rolling_line(catalogue):
    kpi = _on_basis(catalogue.get("ehcp_20wk_excl"), "month")
    fig = charts.trajectory_figure(_rows(catalogue, basis="month"), kpi, catalogue.plan_window, show_rolling=False)
    names = [t.name for t in fig.data]
    assert "Rolling 12 months" not in names and "Actual (monthly)" in names
    judged = charts.trajectory_figure(_rows(catalogue), catalogue.get("ehcp_20wk_excl"), catalogue.plan_window,
                                      show_rolling=False)  # a rolling basis keeps the line it is judged on
    assert "Rolling 12 months (judged against the plan)" in [t.name for t in judged.data]


def test_sparkline_is_small_and_bare():
    periods = charts.recent_periods("2023-07", 13)
    fig = charts.sparkline([float(i) for i in range(12)] + [None], periods, "percent", 1)
    assert fig.layout.height <= 80
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert fig.data[0].hovertext[0] == "July 2022: 0.0%"
    assert fig.data[1].y == (11.0,)  # the latest point with a value is marked
    assert [t.name for t in fig.data] == ["Monthly value", "Latest"]  # no plan given: the actuals alone


def test_sparkline_draws_the_trajectory_dashed_in_the_plan_colour_or_else_the_target():
    periods = charts.recent_periods("2023-07", 13)
    values = [float(i) for i in range(13)]
    planned = [None] * 6 + [20.0 + i for i in range(7)]
    fig = charts.sparkline(values, periods, "percent", 1, planned, 49.2)
    plan = fig.data[0]
    assert plan.name == "Trajectory" and plan.line.dash == "dash" and plan.line.color == charts.SERIES["plan"]
    assert plan.line.color not in charts.STATUS.values()  # the plan's colour, never a status colour
    assert list(plan.y) == planned and plan.hovertext[-1] == "July 2023: planned 26.0%"
    assert [t.name for t in fig.data[1:]] == ["Monthly value", "Latest"]
    target = charts.sparkline(values, periods, "percent", 1, [None] * 13, 49.2).data[0]
    assert target.name == "Target" and set(target.y) == {49.2} and target.line.dash == "dash"
    bare = charts.sparkline(values, periods, "percent", 1, [None] * 13, None)
    assert [t.name for t in bare.data] == ["Monthly value", "Latest"]


def test_sparkline_text_alternative_says_which_plan_line_it_draws():
    recent = [40.0, 41.0]
    with_plan = charts.chart_alt(NAME, "percent", 1, "value", "2023-07", recent, 45.0, 49.2, "2024-01",
                                 "off_track", recent_trajectory=[44.0, 45.0])
    assert with_plan.endswith("an improvement. The dashed line is the plan's trajectory for these months.")
    assert charts.chart_alt(NAME, "percent", 1, "value", "2023-07", recent, None, 49.2, "2024-01",
                            recent_trajectory=[None, None]).endswith(" The dashed line is the plan's target.")
    assert charts.chart_alt("Open plans", "count", 0, "value", "2023-07", [5.0, 5.0],
                            recent_trajectory=[None, None]).endswith("unchanged since last month.")


NAME = "EHCPs within 20 weeks (excl. exceptions)"


def test_chart_alt_states_the_point():
    """The judged figure on the plan's basis, against the month's trajectory and the target, and the trend."""
    recent = [40.1, 41.0, None, 43.0, 44.2, 45.0, 45.4]
    assert charts.chart_alt(NAME, "percent", 1, "rolling_12m", "2024-06", recent, 49.2, 49.2, "2024-01",
                            "off_track", "up") == (
        f"{NAME}: 45.4% over the 12 months to June 2024 against a planned 49.2% (off track), target 49.2% by "
        "January 2024; rising over the last 6 months, from 40.1%: an improvement.")
    # judged on the month itself; lower is better; a gap at the start of the window: the trend from the first value
    assert charts.chart_alt("Weeks to plan", "weeks", 1, "value", "2023-07", [None, None, 21.0, 22.5], 20.0, 18.0,
                            "2024-01", "within_tolerance", "down") == (
        "Weeks to plan: 22.5 weeks in July 2023 against a planned 20.0 weeks (within tolerance), target 18.0 weeks "
        "by January 2024; rising since last month, from 21.0 weeks: a deterioration.")


def test_chart_alt_without_a_plan_a_value_or_a_change():
    assert charts.chart_alt("Open plans", "count", 0, "value", "2023-07", [5.0, 5.0], None, None, None, None) == (
        "Open plans: 5 in July 2023; no plan target; unchanged since last month.")
    assert charts.chart_alt(NAME, "percent", 1, "rolling_12m", "2023-07", [45.0, None], 49.2, 60.0, "2024-01",
                            "no_data") == (
        f"{NAME}: no value for July 2023 against a planned 49.2%, target 60.0% by January 2024.")
    assert charts.chart_alt(NAME, "percent", 1, "value", "2023-07", [None], None, 60.0, "2024-01", "suppressed") == (
        f"{NAME}: not shown (small numbers) for July 2023; target 60.0% by January 2024.")
    # the baseline month: planned, not judged
    assert "against a planned 12.0% (baseline month, not judged)" in charts.chart_alt(
        NAME, "percent", 1, "rolling_12m", "2023-01", [12.0], 12.0, 60.0, "2024-01", "baseline")


@pytest.mark.parametrize("basis", ["rolling_12m", "month"])
def test_trajectory_alt_uses_the_judged_figure(catalogue, basis):
    kpi = _on_basis(catalogue.get("ehcp_20wk_excl"), basis)
    rows = _rows(catalogue, basis=basis)
    here = rows.set_index("period").loc["2023-07"]
    text = charts.trajectory_alt(rows, kpi, "2023-07")
    judged = here["rolling_12m"] if kpi.basis == "rolling_12m" else here["value"]
    over = "over the 12 months to July 2023" if kpi.basis == "rolling_12m" else "in July 2023"
    assert text.startswith(f"{kpi.short_name}: {charts.format_value(judged, 'percent', kpi.decimals)} {over}")
    assert f"against a planned {charts.format_value(here['trajectory'], 'percent', kpi.decimals)}" in text
    assert f"target {charts.format_value(kpi.plan.target.value, 'percent', kpi.decimals)} by" in text
    before = rows.set_index("period").loc["2023-01", kpi.basis_column]
    assert f"over the last 6 months, from {charts.format_value(before, 'percent', kpi.decimals)}" in text \
        or "unchanged over the last 6 months" in text


def test_the_table_hover_and_text_alternative_tell_a_figure_from_its_trajectory(catalogue):
    """A month of 59.95% against a planned 60%: the table (and its CSV) gives the judged column and the trajectory
    two decimals, the chart's hover and the text alternative print 59.95% against 60.00%; other columns keep the
    KPI's own decimals."""
    kpi = _on_basis(catalogue.get("ehcp_20wk_excl"), "month")
    rows = _rows(catalogue, basis="month")
    at = rows.index[rows["period"] == "2023-07"][0]
    rows.loc[at, ["numerator", "denominator", "value", "trajectory", "status"]] = [
        521.0, 869, 521 / 869 * 100, 60.0, "within_tolerance"]
    table = charts.table_frame(rows, kpi)
    row = table.set_index("Period").loc["2023-07"]
    assert (row["Value"], row["Trajectory"]) == (59.95, 60.0)
    formats = charts.column_formats(table, kpi.decimals)
    assert (formats["Value"], formats["Trajectory"], formats["Rolling 12-month"]) == ("%.2f", "%.2f", "%.1f")
    assert "2023-07,521,869,59.95," in charts.table_csv(table).decode()
    fig = charts.trajectory_figure(rows, kpi, catalogue.plan_window, selected="2023-07")
    monthly = next(t for t in fig.data if t.name == "Actual (monthly)")
    hover = monthly.hovertext[list(monthly.x).index(pd.Timestamp("2023-07-01"))]
    assert "59.95% (521 of 869)" in hover and "Trajectory 60.00%" in hover
    alt = charts.chart_alt("EHCPs", "percent", 1, "value", "2023-07", [55.0, 521 / 869 * 100], 60.0, 60.0,
                           "2024-01", "within_tolerance")
    assert alt.startswith("EHCPs: 59.95% in July 2023 against a planned 60.00% (within tolerance)")


def test_a_rolling_kpis_hover_gives_the_12_months_judged_then_the_month_alone(catalogue):
    kpi = catalogue.get("ehcp_20wk_excl")
    fig = charts.trajectory_figure(_rows(catalogue), kpi, catalogue.plan_window, selected="2023-07")
    monthly = next(t for t in fig.data if t.name == "Monthly value")
    hover = monthly.hovertext[list(monthly.x).index(pd.Timestamp("2023-07-01"))]
    assert "12 months: " in hover and "Month alone: 30.0% (3 of 10)" in hover


def test_a_whole_count_is_printed_whole_beside_a_fractional_trajectory():
    assert charts.format_value(17.0, "count", 1) == "17" and charts.format_value(16.6, "count", 1) == "16.6"
    assert charts.format_value(1234.0, "count", 2) == "1,234"


def test_the_table_runs_to_the_month_shown_and_says_not_in_plan_before_the_plan(catalogue):
    """The page shows July 2023: its table (and CSV) lists the months to July, never the later ones; a month before
    the plan whose figures are suppressed is 'Not in plan' (there is no status to hide), one in it 'Suppressed'."""
    kpi = _on_basis(catalogue.get("ehcp_20wk_excl"), "month")
    rows = _rows(catalogue, basis="month")
    for period in ("2022-06", "2023-03"):  # before the plan (no trajectory), and inside it
        rows.loc[rows["period"] == period, "status"] = "suppressed"
    table = charts.table_frame(rows, kpi, upto="2023-07").set_index("Period")
    assert table.index[0] == "2023-07" and "2023-08" not in table.index and "2022-01" in table.index
    assert table.loc["2022-06", "Status"] == "Not in plan" and table.loc["2023-03", "Status"] == "Suppressed"
    assert len(charts.table_frame(rows, kpi)) == 24  # without a month: every month


def test_table_and_csv_are_rounded_as_displayed(catalogue):
    kpi = _on_basis(catalogue.get("ehcp_20wk_excl"), "month")
    table = charts.table_frame(_rows(catalogue, basis="month"), kpi)
    assert list(table.columns) == charts.TABLE_COLUMNS
    assert table["Period"].iloc[0] == "2023-12"  # newest first
    row = table.set_index("Period").loc["2023-07"]
    assert row["Numerator"] == 3 and row["Denominator"] == 10 and row["Value"] == 30.0
    assert row["Trajectory"] == 30.0 and row["Status"] == "On track"
    assert table.set_index("Period").loc["2022-06", "Status"] == "Not in plan"
    assert charts.column_formats(table, kpi.decimals)["Numerator"] == "%d"
    assert charts.column_formats(table, kpi.decimals)["Value"] == "%.1f"
    csv = charts.table_csv(table).decode()
    assert csv.splitlines()[0] == ("Period,Numerator,Denominator,Value,Rolling 12-month,Judged on,Complete month,"
                                   "Trajectory,Target,Status")
    back = pd.read_csv(io.StringIO(csv), dtype={"Period": str})
    assert back.set_index("Period").loc["2023-02", "Trajectory"] == pytest.approx(14.7)  # 12 + (20-12)/3, 1 dp
    assert "2023-07,3,10,30.0," in csv


def test_count_table_has_whole_numbers_and_no_denominator(catalogue):
    kpi = catalogue.get("ar_overdue")
    df = pd.DataFrame({"kpi_id": kpi.id, "period": ["2023-06", "2023-07"], "numerator": [120.0, 108.0],
                       "denominator": pd.array([None, None], dtype="Int64"), "value": [120.0, 108.0],
                       "rolling_12m": math.nan, "median": math.nan})
    table = charts.table_frame(add_plan(df, kpi), kpi)
    assert table["Value"].tolist() == [108, 120]
    assert "2023-07,108,,108," in charts.table_csv(table).decode()


def test_suppressed_cells_read_c_in_text_table_and_csv(catalogue):
    """A suppressed series (kpi/access/suppress.py) never shows a hidden count as missing ('–', 'none in the month')."""
    from kpi.access.suppress import SuppressionRule, suppress_series

    kpi = catalogue.get("ehcp_20wk_excl")
    rows = pd.DataFrame({"kpi_id": [kpi.id] * 2, "period": ["2023-06", "2023-07"], "numerator": [20.0, 3.0],
                         "denominator": pd.array([50, 40], dtype="Int64"), "value": [40.0, 7.5],
                         "rolling_12m": [None, None], "median": [None, None], "target": [49.2, 49.2],
                         "trajectory": [28.0, 30.0], "status": ["on_track", "off_track"]})
    shown = suppress_series(rows, {kpi.id: kpi.unit}, SuppressionRule())
    july = shown.iloc[1]
    assert charts.format_value(july["value"], "percent", 1, suppressed=july["status"] == "suppressed") == "c"
    assert charts.format_value(None, "percent", 1) == "–"
    assert charts.format_basis(july["numerator"], july["denominator"], "percent", suppressed=True) == "c of 40"
    assert charts.format_basis(None, None, "weeks", suppressed=True) == "mean of c plans"
    assert charts.format_basis(None, None, "percent") == "none in the month"
    assert charts.status_text("suppressed") == "⊘ Suppressed"
    assert charts.status_summary(["on_track", "suppressed"], "2023-07") == (
        "1 on track · 0 within tolerance · 0 off track · 1 suppressed in July 2023")
    table = charts.table_frame(shown, kpi)
    assert table.loc[0, ["Period", "Numerator", "Denominator", "Value", "Status"]].tolist() == [
        "2023-07", "c", "40", "c", "Suppressed"]
    assert table.loc[1, ["Numerator", "Value"]].tolist() == ["20", "40.0"]
    assert "Value" not in charts.column_formats(table, kpi.decimals)  # text columns get no number format
    csv_text = charts.table_csv(table).decode()
    assert "2023-07,c,40,c," in csv_text
