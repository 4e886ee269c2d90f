"""Printing (issue #20), in headless Chromium: the print style hides the sidebar, header toolbar and controls; the
Overview prints in at most 8 A4 pages; every chart lies inside the paper's width. The PDFs are saved under the
test's temporary directory (their paths are printed) to look at.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import no_exception, settle

pytestmark = pytest.mark.browser

MARGIN_MM = 10  # pages/_style.py's @page margin
PAPER_PX = (210 - 2 * MARGIN_MM) / 25.4 * 96  # A4's printable width in CSS pixels (≈ 703)


def page_count(pdf: bytes) -> int:
    """The number of pages in a PDF: pypdf's count where it is installed, else the page objects counted."""
    try:
        from pypdf import PdfReader
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    return len(PdfReader(io.BytesIO(pdf)).pages)


def printed_chart_right(page) -> float:
    """The right edge of the widest chart on paper, in CSS pixels from the printed content's left: plotly draws a
    chart once, for the screen, and print does not redraw it, so its screen offset and width are scaled by the print
    style's zoom (read with print media on; the charts are measured before)."""
    right = page.evaluate("""() => {
        const box = document.querySelector('[data-testid=stMainBlockContainer]');
        const left = box.getBoundingClientRect().left + parseFloat(getComputedStyle(box).paddingLeft);
        const svgs = [...document.querySelectorAll('svg.main-svg')];
        return Math.max(...svgs.map(s => s.getBoundingClientRect().right - left));
    }""")
    page.emulate_media(media="print")
    try:
        zoom = page.evaluate("parseFloat(getComputedStyle(document.querySelector('[data-testid=stMain]')).zoom)")
        for hidden in ("[data-testid='stSidebar']", "[data-testid='stHeader']", "[data-testid='stSelectbox']",
                       "[data-testid='stDownloadButton']", ".modebar-container"):
            expect(page.locator(hidden).first).to_be_hidden()
    finally:
        page.emulate_media(media="screen")
    return right * zoom


@pytest.mark.parametrize(("path", "most_pages"), [
    ("?period=2023-07", 8),
    ("kpi_trajectory?period=2023-07&kpi=ehcp_20wk_excl", 4),
])
def test_page_prints_on_a4_without_controls_and_with_charts_inside_the_paper(server, page, path, most_pages):
    url, folder = server
    page.goto(f"{url}/{path}")
    page.locator("[data-testid='stPlotlyChart']").first.wait_for()
    settle(page)
    no_exception(page)
    assert page.locator("svg.main-svg").count() >= 2
    pdf = page.pdf(format="A4")  # print media, as the browser's Print does (before any media is emulated)
    name = folder / f"{path.split('?')[0] or 'overview'}.pdf"
    name.write_bytes(pdf)
    print(f"pdf: {name}")
    assert 1 < page_count(pdf) <= most_pages
    assert printed_chart_right(page) <= PAPER_PX


@pytest.mark.parametrize("window", [1000, 1900])
def test_overview_prints_the_same_from_a_narrow_or_a_wide_window(server, page, window):
    """Printing does not assume a 1400 px window: at most 8 A4 pages, and while printing each chart's drawing is
    scaled to its column (it has a viewBox and lies within its chart box), however wide the screen drew it."""
    url, folder = server
    page.set_viewport_size({"width": window, "height": 1000})
    page.goto(f"{url}/?period=2023-07")
    page.locator("[class*='st-key-spark_'] svg.main-svg").first.wait_for()
    settle(page)
    pdf = page.pdf(format="A4")
    (folder / f"overview_{window}.pdf").write_bytes(pdf)
    assert 1 < page_count(pdf) <= 8
    page.emulate_media(media="print")
    try:
        page.wait_for_function("document.querySelectorAll('svg.main-svg[viewBox]').length > 0", polling=100)
        outside = page.evaluate("""() => [...document.querySelectorAll('[data-testid=stPlotlyChart]')].filter(c =>
            [...c.querySelectorAll('svg.main-svg')].some(s => !s.hasAttribute('viewBox')
                || s.getBoundingClientRect().right > c.getBoundingClientRect().right + 1)).length""")
    finally:
        page.emulate_media(media="screen")
    assert outside == 0
