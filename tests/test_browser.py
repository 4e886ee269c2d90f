"""End to end in a real browser: ``streamlit run app.py`` on a small known database, driven by headless Chromium.

Needs Debian's chromium at /usr/bin/chromium (``make test`` installs it through the Makefile's ``browser`` target).
Screenshots of each view are saved under the test's temporary directory (their paths are printed).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from etl.load import load_paths
from tests.test_app import plan_extract

pytestmark = pytest.mark.browser  # drives headless Chromium: `make test`, not `make check`

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 60_000
expect.set_options(timeout=30_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with code {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"streamlit did not become healthy within {seconds} s:\n{log.read_text()}")


def serve(folder, role: str | None = None):
    """Serve the dashboard on a free localhost port from a fixture database in ``folder`` (local mode; ``role``
    previews another role through APP_ROLE); yields (url, folder) and stops the server afterwards."""
    env = {**os.environ, "APP_PSEUDONYM_KEY": "cd" * 32}
    if role:
        env["APP_ROLE"] = role
    mp = pytest.MonkeyPatch()
    mp.setenv("APP_PSEUDONYM_KEY", env["APP_PSEUDONYM_KEY"])
    try:
        db = folder / "app.duckdb"
        load_paths([plan_extract().write(folder / "extract")], db)
    finally:
        mp.undo()
    port = _free_port()
    log = folder / "streamlit.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env={**env, "APP_DB": str(db)}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url, folder
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard served on a free localhost port from a fixture database; stopped at teardown."""
    yield from serve(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, whose `browser` target installs it "
                    "(apt-get install -y chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    try:
        yield pg
    finally:
        context.close()


def _settle(page) -> None:
    page.wait_for_selector("[data-testid='stAppViewContainer']")
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')")
    page.wait_for_timeout(500)


def _shot(page, folder: Path, name: str) -> Path:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def _no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0


def test_trajectory_link_opened_first_on_a_fresh_server(server, page):
    """A shared link to the trajectory page, opened before anyone has loaded the Overview."""
    url, folder = server
    page.goto(f"{url}/kpi_trajectory?period=2023-07&kpi=ehcp_weeks_to_issue")
    page.get_by_text("About this indicator").wait_for()
    _settle(page)
    _no_exception(page)
    expect(page.get_by_role("heading", name="Average weeks from request to final EHC plan")).to_be_visible()
    expect(page.get_by_text("21.4 weeks").first).to_be_visible()
    expect(page.get_by_text("✔ On track").first).to_be_visible()
    # The plan chart and the XmR chart; no comparison chart (no published data in this database).
    expect(page.locator("[data-testid='stPlotlyChart']")).to_have_count(2)
    expect(page.get_by_text("Statistical process control")).to_be_visible()
    expect(page.get_by_text("Download the monthly figures (CSV)")).to_be_visible()
    expect(page).to_have_url(re.compile(r"kpi=ehcp_weeks_to_issue"))
    assert "period=2023-07" in page.url
    assert _shot(page, folder, "trajectory_weeks_2023-07").stat().st_size > 10_000


def test_overview_for_the_six_month_stocktake(server, page):
    url, folder = server
    page.goto(f"{url}/?period=2023-07")
    page.get_by_text("Overview: July 2023").wait_for()
    _settle(page)
    _no_exception(page)
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
    _shot(page, folder, "overview_2023-07")


def test_from_overview_to_a_kpi_trajectory_keeps_the_month(server, page):
    url, folder = server
    page.goto(f"{url}/?period=2023-08")
    page.get_by_text("Overview: August 2023").wait_for()
    _settle(page)
    expect(page.locator("[data-testid='stPlotlyChart']")).to_have_count(6)  # layout settled
    page.locator(".st-key-kpi_ehcp_20wk_excl").get_by_role("link", name="Trajectory, SPC and definition").click()
    page.get_by_text("About this indicator").wait_for()
    _settle(page)
    _no_exception(page)
    heading = page.get_by_role("heading", name="New EHC plans issued within 20 weeks, excluding exceptions")
    expect(heading).to_be_visible()
    expect(page.get_by_text("✖ Off track").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/kpi_trajectory\?.*kpi=ehcp_20wk_excl"))
    assert "period=2023-08" in page.url
    page.get_by_role("radio", name="Table").click()
    page.locator("[data-testid='stDataFrame']").wait_for()
    _settle(page)
    _no_exception(page)
    _shot(page, folder, "trajectory_table_2023-08")
