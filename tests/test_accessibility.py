"""Accessibility (WCAG 2.2 AA) in a real browser: each page's document title, the Overview cards' headings and link
names, and axe-core on every page for the analyst (local mode, who sees every page) and on the pages monitors and
leadership open (their suppressed figures and navigation).

Uses the fixture database, Streamlit server and Debian Chromium of tests/support/browser.py (the ``server``,
``browser`` and ``page`` fixtures of tests/conftest.py: a server of this module's own).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import no_exception, serve, settle, shot

pytestmark = pytest.mark.browser  # drives headless Chromium with axe-core: `make test`, not `make check`

APP = "APP KPI dashboard"
KPI = "ehcp_20wk_excl"
SHORT = "EHCPs within 20 weeks (excl. exceptions)"

# Every page of the analyst's navigation, opened at July 2023 on one KPI: (path, the document title it must have)
PAGES = [
    ("", f"Overview: July 2023 · {APP}"),
    ("kpi_trajectory", f"KPI trajectory: {SHORT} · {APP}"),
    ("benchmarks", f"Benchmarks · {APP}"),
    ("waiting_lists", f"Waiting lists: July 2023 · {APP}"),
    ("data_quality", f"Data quality · {APP}"),
    ("explore", f"Explore · {APP}"),
    ("explain", f"Explain this number: {SHORT}, July 2023 · {APP}"),
    ("sql_console", f"SQL console · {APP}"),
    ("audit_log", f"Audit log · {APP}"),
]


def _open(page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}?period=2023-07&kpi={KPI}")
    page.locator("h2").first.wait_for()  # every page's header
    settle(page)
    no_exception(page)


@pytest.mark.parametrize(("path", "title"), PAGES, ids=[p or "overview" for p, _ in PAGES])
def test_every_page_has_its_own_title(server, page, path, title):
    url, _ = server
    _open(page, url, path)
    expect(page).to_have_title(title)


def test_overview_cards_name_their_kpi(server, page):
    """Each card's KPI name is a heading (h4, under the APP area's h3); its links say which KPI they open."""
    url, folder = server
    _open(page, url, "")
    card = page.locator(f".st-key-kpi_{KPI}")
    name = "New EHC plans issued within 20 weeks, excluding exceptions"
    heading = card.get_by_role("heading", name=name, level=4, exact=True)
    expect(heading).to_be_visible()
    assert heading.evaluate("h => getComputedStyle(h).fontSize") == "16.32px"  # the card's type, not an h4's
    expect(card.get_by_role("link", name=f"Trajectory, SPC and definition: {SHORT}", exact=True)).to_be_visible()
    expect(card.get_by_role("link", name=f"Explain this number: {SHORT}", exact=True)).to_be_visible()
    links = page.get_by_role("link").all_inner_texts()
    repeated = [t for t in links if t.strip() in ("Trajectory, SPC and definition", "Explain this number")]
    assert not repeated, repeated
    shot(page, folder, "a11y_overview_cards")


# --- axe-core ---------------------------------------------------------------------------------------------------

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Elements of Streamlit's own that we cannot reach, each with the reason; nothing else is excluded.
AXE_EXCLUDE: list[list[str]] = []


def _axe(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    context = {"exclude": AXE_EXCLUDE} if AXE_EXCLUDE else None
    return Axe().run(page, context=context, options=options).response["violations"]


def _describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {v['help']}")
        for n in v["nodes"][:3]:
            lines.append(f"    {n['target']}: {n.get('failureSummary', '')[:300]!r}")
    return "\n".join(lines)


@pytest.mark.parametrize(("path", "title"), PAGES, ids=[p or "overview" for p, _ in PAGES])
def test_axe_finds_no_serious_violation(server, page, path, title):
    url, folder = server
    _open(page, url, path)
    for summary in page.locator("[data-testid='stExpander'] summary").all():  # axe skips what is hidden
        summary.click()
    page.wait_for_timeout(1000)  # charts drawn, expanders open
    violations = _axe(page)
    print(_describe(violations))
    shot(page, folder, f"a11y_{path or 'overview'}")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, _describe(serious)


# The pages a monitor and leadership open (access.yaml): each role sees suppressed figures and its own navigation.
ROLE_PAGES = ["", "kpi_trajectory", "benchmarks"]  # the pages both roles may open


@pytest.fixture(scope="module", params=["monitor", "leadership"])
def role_server(request, tmp_path_factory):
    """The dashboard previewed as another role (APP_ROLE), one server per role."""
    yield from serve(tmp_path_factory.mktemp(f"a11y_{request.param}"), request.param)


@pytest.mark.parametrize("path", ROLE_PAGES, ids=[p or "overview" for p in ROLE_PAGES])
def test_axe_finds_no_serious_violation_for_monitors_and_leadership(role_server, page, path):
    url, folder = role_server
    _open(page, url, path)
    violations = _axe(page)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, _describe(serious)


def _contrast_on_white(rgb: str) -> float:
    r, g, b = (int(c) / 255 for c in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])
    lum = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    y = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2]
    return 1.05 / (y + 0.05)


def test_chart_text_meets_aa_contrast(server, page):
    """axe does not check text inside SVG: the charts' tick labels, axis titles and legends are checked here."""
    url, _ = server
    _open(page, url, "kpi_trajectory")
    charts = page.locator("[data-testid='stPlotlyChart']")
    expect(charts).to_have_count(2)  # the plan chart and the XmR chart
    fills = page.evaluate("""() => [...document.querySelectorAll(
        "[data-testid='stPlotlyChart'] .xtick text, [data-testid='stPlotlyChart'] .ytick text, "
        + "[data-testid='stPlotlyChart'] .g-xtitle text, [data-testid='stPlotlyChart'] .g-ytitle text, "
        + "[data-testid='stPlotlyChart'] .legendtext")].map(t => [
            t.closest('g[class]').getAttribute('class') + ' ' + t.textContent, getComputedStyle(t).fill])""")
    assert len(fills) > 20
    low = {what: round(_contrast_on_white(f), 2) for what, f in fills if _contrast_on_white(f) < 4.5}
    assert not low, low


def test_charts_text_alternatives_state_the_point(server, page):
    """The plan chart and the Overview sparkline are labelled with the judged figure, plan, target and trend."""
    url, _ = server
    _open(page, url, "kpi_trajectory")
    figure = page.get_by_role("figure", name=re.compile(f"^{re.escape(SHORT)}: "))
    expect(figure).to_have_count(1)
    label = figure.evaluate("f => f.getAttribute('aria-label') || f.getAttribute('title') || ''")
    assert " over the 12 months to July 2023 against a planned " in label and " by January 2024" in label, label
    _open(page, url, "")
    spark = page.locator(f".st-key-kpi_{KPI}").get_by_role("figure")
    expect(spark).to_have_count(1)
    # the plan chart's sentence, then what the sparkline's dashed line is
    expect(spark).to_have_accessible_name(
        re.compile("^" + re.escape(label) + r" The dashed line is the plan's (trajectory for these months|target)\.$"))
