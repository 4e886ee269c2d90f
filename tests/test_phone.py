"""The Overview and Waiting lists on a phone (issue #20), in headless Chromium at 390 px: nothing wider than the
screen (a table scrolls inside its own frame) and each KPI card compact (about 500 px tall, from 650). The screenshots
are saved under the test's temporary directory (their paths printed) to look at.
"""

from __future__ import annotations

import os

import pytest

from etl.load import load_paths
from tests.support.app import plan_extract
from tests.support.browser import no_exception, running_app, settle, shot
from tests.support.published import PUBLISHED_DATA
from tests.support.waits import ROWS, write_csv

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 900}
MEASURE = """() => {
    const main = document.querySelector('[data-testid=stMain]');
    const cards = [...document.querySelectorAll('[class*="st-key-kpi_"]')];
    const wide = [...main.querySelectorAll('*')].filter(e => {
        const r = e.getBoundingClientRect();
        // inside a chart, its text (a shape clipped to the plot reports its whole unclipped box)
        const drawn = !e.closest('svg') || e.tagName === 'svg' || e.tagName === 'text';
        return drawn && r.width > 0 && r.right > window.innerWidth + 1 && !e.closest('[data-testid=stDataFrame]');
    });
    return {page: document.documentElement.scrollWidth, main: main.scrollWidth, wide: wide.length,
            widest: wide.map(e => (e.getAttribute('data-testid') || e.tagName) + ' '
                                   + Math.round(e.getBoundingClientRect().width) + ' in '
                                   + ((e.closest('[class*="st-key-"]') || {}).className || '').match(/st-key-\\w+/)),
            cards: cards.map(c => c.getBoundingClientRect().height)};
}"""  # how wide the page and its main column are, what reaches past the screen's edge (tables scroll in their frame)
CARD_MOST_PX = 700  # the test data's cards measure 460–645 px at 390 px (each was about 650–750 before)


def on_a_phone(page, url: str, folder, path: str, charts: list[str], name: str) -> dict:
    """Open ``path`` at 390 px, wait for the ``charts`` (selectors) to draw, save a screenshot ``name`` and return
    MEASURE's measures, once the page is known not to scroll sideways."""
    page.set_viewport_size(PHONE)
    page.goto(f"{url}/{path}")
    for chart in charts:
        page.locator(f"{chart} svg.main-svg").first.wait_for()
    settle(page)
    no_exception(page)
    measured = page.evaluate(MEASURE)
    shot(page, folder, name)
    assert measured["page"] <= PHONE["width"] and measured["main"] <= PHONE["width"]
    return measured


def test_overview_on_a_phone_has_no_sideways_scroll_and_compact_cards(server, page):
    measured = on_a_phone(page, *server, "?period=2023-07", ["[class*='st-key-spark_']"], "overview_390")
    assert measured["wide"] == 0
    assert len(measured["cards"]) >= 2
    print(f"card heights: {[round(h) for h in measured['cards']]}")
    assert max(measured["cards"]) <= CARD_MOST_PX, measured["cards"]


@pytest.fixture(scope="module")
def waits_server(tmp_path_factory):
    """The dashboard over the plan's extract, a referral extract and one bundled NHS England workbook (its
    organisations' long names are the widest chart titles)."""
    folder = tmp_path_factory.mktemp("phone_waits")
    env = {**os.environ, "APP_PSEUDONYM_KEY": "cd" * 32}
    mp = pytest.MonkeyPatch()
    mp.setenv("APP_PSEUDONYM_KEY", env["APP_PSEUDONYM_KEY"])
    try:
        referrals = write_csv(folder / "waits" / "referrals_2023-04-30.csv", ROWS)
        load_paths([plan_extract().write(folder / "extract"), referrals,
                    PUBLISHED_DATA / "nhs_chs" / "published_2023-03.xlsx"], folder / "app.duckdb")
    finally:
        mp.undo()
    with running_app(folder / "app.duckdb", env, folder / "streamlit.log") as url:
        yield url, folder


def test_waiting_lists_on_a_phone_have_nothing_wider_than_the_screen(waits_server, page):
    """The bands charts' titles ran to 541 and 939 px at 390 px (plotly never wraps a title)."""
    measured = on_a_phone(page, *waits_server, "waiting_lists?period=2023-03&org=RYV",
                          [".st-key-local_bands", ".st-key-nhs_bands"], "waiting_lists_390")
    # the trajectory chart's "APP monitoring window" label too: this short history opens the window near its right edge
    assert measured["widest"] == [], measured["widest"]
