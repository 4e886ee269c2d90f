"""The XmR figure: legend names every point type shown, limits per segment, target, trajectory, recalculations."""

from __future__ import annotations

from kpi import definitions
from kpi.spc import xmr
from kpi.spc_chart import spc_figure

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
    texts = [a.text for a in fig.layout.annotations]
    assert any("Limits recalculated: APP recovery plan" in t for t in texts)
    assert not any("capacity fell" in t for t in texts)  # 2021-01 is before the charted months


def test_too_few_points_draw_no_limits():
    kpi = definitions.load().get("ar_overdue")
    fig = spc_figure(kpi, PERIODS[:10], xmr(VALUES[:10], improvement="decrease"))
    assert "Process limits" not in _names(fig)
