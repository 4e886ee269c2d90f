"""The XmR figure: legend names every point type shown, limits per segment, target, trajectory, recalculations."""

from __future__ import annotations

import pandas as pd

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
    recalcs = [a for a in fig.layout.annotations if a.name == "recalculation"]
    assert len(recalcs) == 1  # 2021-01 is before the charted months
    assert recalcs[0].text == "①" and recalcs[0].x == "2023-02-01"
    assert "February 2023: APP recovery plan" in recalcs[0].hovertext
    assert "① Limits recalculated, February 2023" in _names(fig)  # the legend says what ① is


PHONE_PLOT_PX = 210  # the plot area's width on a 390 px screen (the page's 358 px less axis title, ticks, margins)
CHAR_PX = 6  # a character of the 10 px label font, wide enough


def test_top_labels_never_overlap_even_on_a_phone():
    """Issue 20: "Plan window" and "Limits recalculated" sat on one another at 390 px (February 2023 is both the
    plan's first month and a recalculation). Each label keeps a row of its own, or enough room on a shared one,
    at a phone's plot width; the reasons stay in the hover and the legend names each mark's month."""
    cat = definitions.load()
    kpi = cat.get("ehcp_20wk_excl")  # recalculates in 2021-01 and 2023-02, the plan window starts 2023-02
    periods = [f"{2019 + i // 12}-{i % 12 + 1:02d}" for i in range(72)]  # 2019-01 … 2024-12
    values = [30 + (i % 7) for i in range(72)]
    fig = spc_figure(kpi, periods, xmr(values, improvement="increase", recalc_at=[24, 49]), cat.plan_window)
    top = [a for a in fig.layout.annotations if a.yref == "paper" and a.y == 1]
    assert sorted(a.text for a in top) == ["Plan window", "①", "②"]
    lo, hi = (pd.Timestamp(x) for x in fig.layout.xaxis.range)
    px_per_day = PHONE_PLOT_PX / (hi - lo).days

    def span(a) -> tuple[float, float]:
        x = (pd.Timestamp(a.x) - lo).days * px_per_day
        width = len(a.text) * CHAR_PX if len(a.text) > 1 else 14
        return (x, x + width) if a.xanchor == "left" else (x - width / 2, x + width / 2)

    for i, a in enumerate(top):
        for b in top[i + 1:]:
            if (a.yshift or 0) == (b.yshift or 0):  # the same row: apart on it
                (a0, a1), (b0, b1) = span(a), span(b)
                assert a1 <= b0 or b1 <= a0, (a.text, b.text)
    window = next(a for a in top if a.text == "Plan window")
    assert all((a.yshift or 0) != (window.yshift or 0) for a in top if a is not window)
    second = next(a for a in top if a.text == "②")
    assert "Limits recalculated from February 2023: APP recovery plan" in second.hovertext


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
    assert "recalculated from ① February 2023 (APP recovery plan" in text
    assert "capacity fell" not in text


def test_too_few_points_draw_no_limits():
    kpi = definitions.load().get("ar_overdue")
    fig = spc_figure(kpi, PERIODS[:10], xmr(VALUES[:10], improvement="decrease"))
    assert "Process limits" not in _names(fig)
