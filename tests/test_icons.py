"""SVG icons: well-formed, labelled in words, distinct per meaning."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from kpi.engine.spc import ASSURANCE_TYPES, VARIATION_ICONS
from kpi.views.icons import ASSURANCE_STYLE, VARIATION_STYLE, assurance_svg, label_for, variation_svg


@pytest.mark.parametrize("icon", [*VARIATION_ICONS, None])
def test_every_variation_icon_is_valid_svg_with_a_text_label(icon):
    svg = variation_svg(icon)
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and root.get("role") == "img"
    assert root.get("aria-label") == label_for(svg)
    assert label_for(svg)


@pytest.mark.parametrize("assurance", [*ASSURANCE_TYPES, None])
def test_every_assurance_icon_is_valid_svg_with_a_text_label(assurance):
    svg = assurance_svg(assurance)
    ET.fromstring(svg)
    assert label_for(svg)


def test_icons_cover_the_spc_vocabulary_and_differ_by_more_than_colour():
    assert set(VARIATION_STYLE) == set(VARIATION_ICONS)
    assert set(ASSURANCE_STYLE) == set(ASSURANCE_TYPES)
    assert "H</text>" in variation_svg("improvement_high") and "L</text>" in variation_svg("improvement_low")
    assert ">P</text>" in assurance_svg("consistent_pass") and ">F</text>" in assurance_svg("consistent_fail")
    labels = {label_for(variation_svg(i)) for i in VARIATION_ICONS}
    assert len(labels) == len(VARIATION_ICONS)
