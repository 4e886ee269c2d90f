"""The Waiting lists figures (issue 20): NHS England's published months on a real date axis, every band its own
colour from the palette, no status colour for a band."""

from __future__ import annotations

import pandas as pd

from kpi.views import palette
from kpi.views.waits_view import NHS_BANDS, local_bands_figure, local_bands_title, nhs_bands_figure, nhs_bands_title


def _nhs(periods: list[str], bands: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{"period": p, "band": b, "value": 10.0 + i} for p in periods for i, b in enumerate(bands)])


def test_the_nhs_chart_is_on_a_date_axis_with_the_gap_between_2023_and_2025():
    bands = pd.concat([_nhs(["2023-09", "2023-10"], ["0-1", ">18-52", ">52"]),
                       _nhs(["2025-10"], ["0-1", ">18-52", ">52-104", ">104"])], ignore_index=True)
    fig = nhs_bands_figure(bands)
    assert fig.layout.xaxis.type == "date"
    xs = sorted({pd.Timestamp(x) for trace in fig.data for x in trace.x})
    assert xs == [pd.Timestamp("2023-09-01"), pd.Timestamp("2023-10-01"), pd.Timestamp("2025-10-01")]
    assert (xs[-1] - xs[-2]).days > 700  # Oct 2023 does not sit next to Oct 2025
    colours = [trace.marker.color for trace in fig.data]
    assert [trace.name for trace in fig.data] == ["Up to 1 week", "Over 18 to 52 weeks", "Over 52 weeks",
                                                  "Over 52 to 104 weeks", "Over 104 weeks"]
    assert len(set(colours)) == len(colours)  # no two band traces share a colour
    assert not set(colours) & set(palette.STATUS.values())


def test_every_nhs_band_has_its_own_palette_colour():
    colours = [colour for _band, _name, colour in NHS_BANDS]
    assert len(set(colours)) == len(colours) == len(palette.WAIT_BANDS)
    assert {band: colour for band, _name, colour in NHS_BANDS} == palette.WAIT_BANDS


def test_the_local_bands_use_wait_band_colours_not_status_colours():
    table = pd.DataFrame({"period": ["2024-11", "2024-12"], "waiting": [100.0, 110.0], "over_18wk": [40.0, 45.0],
                          "over_52wk": [5.0, 6.0]})
    fig = local_bands_figure(table)
    colours = [trace.marker.color for trace in fig.data]
    assert colours == list(palette.LOCAL_WAIT_BANDS.values())
    assert not set(colours) & set(palette.STATUS.values())
    assert list(fig.data[0].y) == [60.0, 65.0] and list(fig.data[2].y) == [5.0, 6.0]


def test_the_titles_are_headings_above_the_charts_not_inside_them():
    """Plotly never wraps a title: on a phone it ran off the screen (541 and 939 px at 390), so the page writes it
    above the chart as text that wraps."""
    table = pd.DataFrame({"period": ["2024-12"], "waiting": [110.0], "over_18wk": [45.0], "over_52wk": [6.0]})
    for fig in (local_bands_figure(table), nhs_bands_figure(_nhs(["2025-10"], ["0-1", ">52"]))):
        assert not fig.layout.title.text
    assert local_bands_title("Speech and language therapy") == (
        "Speech and language therapy: children waiting at month end, by time waited")
    assert nhs_bands_title("Bedfordshire Community Health Services", "Speech and language therapy") == (
        "Bedfordshire Community Health Services: Speech and language therapy (NHS England, published)")
