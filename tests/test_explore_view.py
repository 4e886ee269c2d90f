"""Explore's breakdown chart (issue 20): the two compared periods in the palette's pair of series colours, never a
status colour, and told apart by pattern as well."""

from __future__ import annotations

import pandas as pd

from kpi.engine.explore import DIMENSION_BY_ID, TOTAL
from kpi.views import palette
from kpi.views.explore_view import breakdown_figure


def test_two_compared_periods_get_the_palettes_pair_and_no_status_colour(catalogue):
    label = DIMENSION_BY_ID["sex"].label
    frame = pd.DataFrame({label: ["Female", "Male", TOTAL] * 2,
                          "Period": ["July 2023"] * 3 + ["July 2024"] * 3,
                          "Value": [40.0, 50.0, 45.0, 42.0, 55.0, 48.0]})
    fig = breakdown_figure(frame, catalogue.get("ehcp_20wk_excl"), "sex")
    assert [trace.name for trace in fig.data] == ["July 2023", "July 2024"]
    colours = [trace.marker.color for trace in fig.data]
    assert colours == list(palette.COMPARED_PERIODS)
    assert not set(colours) & set(palette.STATUS.values())
    assert [trace.marker.pattern.shape for trace in fig.data] == ["", "/"]
