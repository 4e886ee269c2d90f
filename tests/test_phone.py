"""The Overview on a phone (issue #20), in headless Chromium at 390 px: nothing wider than the screen and each KPI
card compact (about 500 px tall, from 650). The screenshot is saved under the test's
temporary directory (its path printed) to look at.
"""

from __future__ import annotations

import pytest

from tests.support.browser import no_exception, settle, shot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 900}
CARD_MOST_PX = 700  # the test data's cards measure 460–645 px at 390 px (each was about 650–750 before)


def test_overview_on_a_phone_has_no_sideways_scroll_and_compact_cards(server, page):
    url, folder = server
    page.set_viewport_size(PHONE)
    page.goto(f"{url}/?period=2023-07")
    page.locator("[class*='st-key-spark_'] svg.main-svg").first.wait_for()
    settle(page)
    no_exception(page)
    measured = page.evaluate("""() => {
        const main = document.querySelector('[data-testid=stMain]');
        const cards = [...document.querySelectorAll('[class*="st-key-kpi_"]')];
        const wide = [...main.querySelectorAll('*')].filter(e => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && r.right > window.innerWidth + 1 && !e.closest('[data-testid=stDataFrame]');
        });
        return {page: document.documentElement.scrollWidth, main: main.scrollWidth, wide: wide.length,
                cards: cards.map(c => c.getBoundingClientRect().height)};
    }""")
    shot(page, folder, "overview_390")
    assert measured["page"] <= PHONE["width"] and measured["main"] <= PHONE["width"]
    assert measured["wide"] == 0
    assert len(measured["cards"]) >= 2
    print(f"card heights: {[round(h) for h in measured['cards']]}")
    assert max(measured["cards"]) <= CARD_MOST_PX, measured["cards"]
