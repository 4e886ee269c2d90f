"""The Benchmarks rank chart (issue 20): ranks start at 1 (no rank 0 on the axis), rank 1 at the top, the axes
titled, and point labels that cannot overlap."""

from __future__ import annotations

import pandas as pd

from kpi.engine.benchmark import Area
from kpi.views.benchmark_charts import rank_figure, rank_ticks

AREA = Area("E06000056", "Central Bedfordshire", "823", "E12000006", "East of England")


def _hist(ranks: list[int], n: int = 151) -> pd.DataFrame:
    years = range(2014, 2014 + len(ranks))
    return pd.DataFrame({"role": "area", "year": list(years), "rank": ranks, "n_ranked": n})


def test_the_rank_axis_runs_from_rank_1_at_the_top_and_never_shows_0():
    fig = rank_figure(_hist([3, 82, 90, 120, 151, 1, 60, 61, 62, 63, 64]), AREA)
    low, high = fig.layout.yaxis.range
    assert low > high  # reversed: rank 1 at the top
    assert high == 0.5 and low == 151.5
    assert min(fig.layout.yaxis.tickvals) == 1 and max(fig.layout.yaxis.tickvals) == 151
    assert 0 not in fig.layout.yaxis.tickvals
    assert fig.layout.yaxis.title.text.startswith("Rank") and "1 = best" in fig.layout.yaxis.title.text
    assert fig.layout.xaxis.title.text == "Calendar year"


def test_only_the_first_and_latest_years_are_labelled_and_band_names_sit_outside_the_plot():
    fig = rank_figure(_hist([60, 61, 62, 63, 64, 65]), AREA)
    (trace,) = fig.data
    assert [t for t in trace.text if t] == ["60 of 151", "65 of 151"]
    assert list(trace.customdata) == [f"{r} of 151" for r in range(60, 66)]  # every year on hover
    bands = [a for a in fig.layout.annotations if "Quartile" in a.text]
    assert len(bands) == 4 and all(a.xref == "paper" and a.x > 1 for a in bands)


def test_rank_ticks_are_1_the_quartile_boundaries_and_the_last_rank():
    assert rank_ticks(151) == [1, 38, 76, 113, 151]
    assert rank_ticks(3) == [1, 2, 3]
    assert 0 not in rank_ticks(1)
