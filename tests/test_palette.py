"""One colour, one meaning (issue #20): status colours only for status, Making Data Count's for SPC, a palette of
their own for series; no two meanings share a colour or come close to it."""

from __future__ import annotations

import itertools
import math
import re

from kpi.views import charts, icons, palette, spc_chart
from kpi.views.benchmark_charts import SERIES_STYLE
from pages._style import CSS


def _lab(colour: str) -> tuple[float, float, float]:
    """sRGB hex → CIE L*a*b* (D65)."""
    rgb = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    xyz = ((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b,
           (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883)
    fx, fy, fz = [v ** (1 / 3) if v > 0.008856 else 7.787 * v + 16 / 116 for v in xyz]
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _distance(a: str, b: str) -> float:
    return math.dist(_lab(a), _lab(b))


def test_no_two_meanings_share_a_colour_or_come_close():
    meanings = palette.meanings()
    assert len(meanings) == 13  # 3 statuses, 4 SPC point types, 6 series
    for (m1, c1), (m2, c2) in itertools.combinations(meanings.items(), 2):
        assert c1.upper() != c2.upper(), f"{m1} and {m2} share {c1}"
        assert _distance(c1, c2) > 25, f"{m1} ({c1}) and {m2} ({c2}) are too alike"


def test_series_are_the_analysis_function_categorical_palette():
    assert set(palette.SERIES.values()) == {"#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1"}


def test_status_colours_are_used_for_status_only():
    status = {c.upper() for c in palette.STATUS.values()}
    assert {colour for _symbol, colour in charts.STATUS_MARKERS.values()} == set(palette.STATUS.values())
    assert not status & {style[1].upper() for style in spc_chart.POINT_STYLE.values()}
    assert not status & {style[1].upper() for style in SERIES_STYLE.values()}
    assert not status & {c.upper() for c in (icons.BLUE, icons.ORANGE, icons.GREY, icons.PURPLE)}
    for name, colour in palette.STATUS.items():  # the badge and tile rules carry the status colour
        assert re.search(rf"\.kpi-status\.{name} {{border-color: {colour};", CSS)
        assert re.search(rf"\.kpi-tile\.{name} {{border-color: {colour};}}", CSS)
    css_colours = {c.upper() for c in re.findall(r"#[0-9A-Fa-f]{6}\b", CSS)}
    assert not css_colours & {c.upper() for c in [*palette.SERIES.values(), *palette.SPC.values()]}


def test_spc_points_and_icons_use_making_data_count_colours():
    assert {k: v[1] for k, v in spc_chart.POINT_STYLE.items()} == palette.SPC
    assert icons.variation_svg("concern_high").count(palette.SPC["concern"]) >= 1
    assert icons.variation_svg("improvement_low").count(palette.SPC["improvement"]) >= 1



def test_wait_bands_each_have_their_own_colour_ordered_light_to_dark_and_no_status_colour():
    """Issue 20: no two bands share a colour; blues up to 18 weeks and wine over, each darker as the wait grows."""
    bands = palette.WAIT_BANDS
    status = {c.upper() for c in palette.STATUS.values()}
    for (b1, c1), (b2, c2) in itertools.combinations(bands.items(), 2):
        assert _distance(c1, c2) > 12, f"{b1} ({c1}) and {b2} ({c2}) are too alike"
    for band, colour in bands.items():
        assert colour.upper() not in status | {c.upper() for c in palette.SPC.values()}, band
        assert min(_distance(colour, s) for s in status) > 20, band
    short = [">12-18", ">4-12", ">2-4", ">1-2", "0-1"]
    long_ = [">104", ">52-104", ">52", ">18-52"]
    for run in (short, long_):  # lightness rises as the wait shortens
        lightness = [_lab(bands[b])[0] for b in run]
        assert lightness == sorted(lightness), run
    assert set(palette.LOCAL_WAIT_BANDS.values()) <= set(bands.values())
    assert len(set(palette.LOCAL_WAIT_BANDS.values())) == 3


def test_the_two_compared_periods_are_series_colours_far_apart_and_not_status():
    first, second = palette.COMPARED_PERIODS
    assert {first, second} <= set(palette.SERIES.values())
    assert _distance(first, second) > 50
    assert not {first.upper(), second.upper()} & {c.upper() for c in palette.STATUS.values()}
