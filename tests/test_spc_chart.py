"""The XmR figure: legend names every point type shown, limits per segment, target, trajectory, recalculations."""

from __future__ import annotations

from kpi import definitions
from kpi.engine.spc import xmr
from kpi.views.spc_chart import spc_figure, spc_method_text

VALUES = [20, 24, 20, 26, 22, 16, 18, 16, 31, 28, 34, 26, 30, 19, 18, 45, 47, 49, 50, 52, 54, 56]
PERIODS = [f"{2021 + i // 12}-{i % 12 + 1:02d}" for i in range(len(VALUES))]


def _names(fig):
    return [t.name for t in fig.data]


def test_figure_names_point_types_limits_target_and_trajectory():
    cat = definitions.load()
    kpi = cat.get("ehcp_20wk_excl")
    result = xmr(VALUES, improvement="increase", target=kpi.plan.target.value)
    fig = spc_figure(kpi, PERIODS, result, cat.plan_window, trajectory={"2022-06": 30.0, "2022-07": 32.0},
                     selected="2022-07")
    names = _names(fig)
    assert "Mean" in names and "Process limits" in names and "Plan trajectory" in names
    assert "Special cause: improvement" in names and "Common cause" in names
    improvement = next(t for t in fig.data if t.name == "Special cause: improvement")
    assert improvement.marker.symbol == "triangle-up"  # shape as well as colour
    assert any("Signal:" in h for h in improvement.hovertext)
    texts = [a.text for a in fig.layout.annotations]
    assert any(t.startswith("Target 49.2%") for t in texts)
    assert any("Plan window" in (t or "") for t in texts)


def test_limits_are_drawn_per_segment_and_recalculations_are_labelled():
    cat = definitions.load()
    kpi = cat.get("ehcp_20wk_excl")  # recalculates in 2021-01 and 2023-02
    periods = [f"{2022 + i // 12}-{i % 12 + 1:02d}" for i in range(len(VALUES))]  # 2022-01 … 2023-10
    result = xmr(VALUES, improvement="increase", recalc_at=[periods.index("2023-02")])
    fig = spc_figure(kpi, periods, result)
    mean = next(t for t in fig.data if t.name == "Mean")
    assert list(mean.y).count(None) == 2  # two segments, each ended by a break
    recalcs = [a for a in fig.layout.annotations if a.text == "Limits recalculated"]
    assert len(recalcs) == 1  # 2021-01 is before the charted months
    assert "February 2023: APP recovery plan" in recalcs[0].hovertext
    assert recalcs[0].x == "2023-02-01"


def test_axis_spans_the_points_and_the_plan_window_only():
    cat = definitions.load()
    kpi = cat.get("ehcp_20wk_excl")
    periods = [f"{2022 + i // 12}-{i % 12 + 1:02d}" for i in range(14)]  # 2022-01 … 2023-02, before the plan ends
    fig = spc_figure(kpi, periods, xmr(VALUES[:14], improvement="increase"), cat.plan_window)
    assert list(fig.layout.xaxis.range) == ["2021-12-15", "2024-02-15"]  # plan window ends January 2024


def test_method_text_names_the_rules_months_and_recalculation_reasons():
    kpi = definitions.load().get("ehcp_20wk_excl")
    periods = [f"{2022 + i // 12}-{i % 12 + 1:02d}" for i in range(len(VALUES))]
    result = xmr(VALUES, improvement="increase", recalc_at=[periods.index("2023-02")])
    text = spc_method_text(kpi, periods, result)
    assert "from January 2022 to October 2023 (22 months" in text
    assert "Making Data Count" in text
    assert "recalculated from February 2023 (APP recovery plan" in text
    assert "capacity fell" not in text


def test_too_few_points_draw_no_limits():
    kpi = definitions.load().get("ar_overdue")
    fig = spc_figure(kpi, PERIODS[:10], xmr(VALUES[:10], improvement="decrease"))
    assert "Process limits" not in _names(fig)
