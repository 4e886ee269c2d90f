"""End to end in a real browser: ``streamlit run app.py`` on a small known database, driven by headless Chromium.

Needs Debian's chromium at /usr/bin/chromium (``make test`` installs it through the Makefile's ``browser`` target).
Screenshots of each view are saved under the test's temporary directory (their paths are printed).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import no_exception, settle, shot

pytestmark = pytest.mark.browser  # drives headless Chromium: `make test`, not `make check`


def test_trajectory_link_opened_first_on_a_fresh_server(server, page):
    """A shared link to the trajectory page, opened before anyone has loaded the Overview."""
    url, folder = server
    page.goto(f"{url}/kpi_trajectory?period=2023-07&kpi=ehcp_weeks_to_issue")
    page.get_by_text("About this indicator").wait_for()
    settle(page)
    no_exception(page)
    expect(page.get_by_role("heading", name="Weeks from request to plan (mean)")).to_be_visible()
    expect(page.get_by_text("Average weeks from request to final EHC plan").first).to_be_visible()
    expect(page.get_by_text("21.4 weeks").first).to_be_visible()
    expect(page.get_by_text("✔ On track").first).to_be_visible()
    # The plan chart and the XmR chart; no comparison chart (no published data in this database).
    expect(page.locator("[data-testid='stPlotlyChart']")).to_have_count(2)
    expect(page.get_by_text("Statistical process control")).to_be_visible()
    expect(page.get_by_text("Download the monthly figures (CSV)")).to_be_visible()
    expect(page).to_have_url(re.compile(r"kpi=ehcp_weeks_to_issue"))
    assert "period=2023-07" in page.url
    assert shot(page, folder, "trajectory_weeks_2023-07").stat().st_size > 10_000


def test_overview_for_the_six_month_stocktake(server, page):
    url, folder = server
    page.goto(f"{url}/?period=2023-07")
    page.get_by_text("Overview: July 2023").wait_for()
    settle(page)
    no_exception(page)
    expect(page.get_by_role("heading", name="Accelerated Progress Plan 2023–24 (demo area)")).to_be_visible()
    expect(page.get_by_text("New EHC plans issued within 20 weeks, excluding exceptions")).to_be_visible()
    summary = "6 on track · 0 within tolerance · 0 off track · 12 no data · 31 not in plan in July 2023"
    expect(page.get_by_text(summary)).to_be_visible()
    expect(page.get_by_text("50.0%").first).to_be_visible()
    expect(page.get_by_text("✔ On track").first).to_be_visible()
    expect(page.get_by_text("– No data").first).to_be_visible()
    expect(page.locator("[data-testid='stPlotlyChart']")).to_have_count(6)  # a sparkline for each KPI with values
    expect(page.get_by_text("Common cause variation").first).to_be_visible()  # the board summary, in words
    expect(page.locator("img[alt='Too few points for SPC']").first).to_be_visible()  # icons carry alt text
    shot(page, folder, "overview_2023-07")


def test_from_overview_to_a_kpi_trajectory_keeps_the_month(server, page):
    url, folder = server
    page.goto(f"{url}/?period=2023-08")
    page.get_by_text("Overview: August 2023").wait_for()
    settle(page)
    expect(page.locator("[data-testid='stPlotlyChart']")).to_have_count(6)  # layout settled
    page.locator(".st-key-kpi_ehcp_20wk_excl").get_by_role("link", name="Trajectory, SPC and definition").click()
    page.get_by_text("About this indicator").wait_for()
    settle(page)
    no_exception(page)
    # The heading names the KPI as the selector and the card do; the full name is in the caption beneath it.
    heading = page.get_by_role("heading", name="EHCPs within 20 weeks (excl. exceptions)", exact=True)
    expect(heading).to_be_visible()
    expect(page.get_by_text("New EHC plans issued within 20 weeks, excluding exceptions").first).to_be_visible()
    expect(page.get_by_text("✖ Off track").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/kpi_trajectory\?.*kpi=ehcp_20wk_excl"))
    assert "period=2023-08" in page.url
    page.get_by_role("radio", name="Table").click()
    page.locator("[data-testid='stDataFrame']").wait_for()
    settle(page)
    no_exception(page)
    shot(page, folder, "trajectory_table_2023-08")
