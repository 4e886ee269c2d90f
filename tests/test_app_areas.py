"""The pages with more than one local area loaded: a sidebar selector (home area first), every page on the chosen
area's records, the choice in the URL, a clear note for a link to an area that is not loaded.

Central Bedfordshire holds the plan extract of tests/support/app.py (July 2023: 1 of 2 plans within 20 weeks, 50.0%);
Luton's extract issues three plans a month, all within 20 weeks (July 2023: 3 of 3, 100.0%).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from etl.load import load_areas
from tests.support.app import TRAJECTORY_PAGE, plan_extract, run_app, text_of
from tests.support.blade import Blade

pytestmark = pytest.mark.slow  # pages run under streamlit's AppTest (~2 s each): make test

HOME, LUTON = "E06000056", "E06000032"
EXPLAIN = "pages/explain.py"


def luton_extract() -> Blade:
    b = Blade()
    b.rows["sen2"][0]["lea"] = "821"
    for i in range(21):  # January 2022 … September 2023
        issued = date(2022 + i // 12, i % 12 + 1, 15)
        for _ in range(3):
            b.issued_plan((issued - timedelta(days=90)).isoformat(), issued.isoformat())
    return b


@pytest.fixture
def two_areas(tmp_path, monkeypatch):
    db = tmp_path / "areas.duckdb"
    load_areas([(HOME, [plan_extract().write(tmp_path / "cb")]), ("821", [luton_extract().write(tmp_path / "lu")])],
               db)
    monkeypatch.setenv("APP_DB", str(db))
    return db


def _area_box(at):
    boxes = [s for s in at.sidebar.selectbox if s.label == "Local area"]
    return boxes[0] if boxes else None


def test_the_home_area_is_shown_first_with_a_selector_of_every_area(two_areas):
    at = run_app({"period": "2023-07"})
    box = _area_box(at)
    assert box is not None and box.options == ["Central Bedfordshire", "Luton"] and box.value == HOME
    text = text_of(at)
    assert "**Central Bedfordshire** · monitoring window" in text
    assert "50.0%" in text and "1 of 2" in text and "3 of 3" not in text


def test_choosing_an_area_shows_its_figures_and_names_it_in_the_url(two_areas):
    at = run_app({"period": "2023-07"})
    _area_box(at).select(LUTON).run()
    assert not at.exception
    text = text_of(at)
    assert "**Luton** · monitoring window" in text and "100.0%" in text and "3 of 3" in text
    assert at.query_params["area"] == LUTON
    # Luton is judged against its own plan (plans/E06000032.yaml, a demo plan), not the home area's
    assert "**Luton** · monitoring window **June 2023 – May 2024**" in text
    assert "Luton Accelerated Progress Plan 2023–24 (demo)" in text and "A demo plan" in text
    assert "set against them for comparison" not in text


def test_a_link_opens_the_area_it_names_on_any_page(two_areas):
    at = run_app({"period": "2023-07", "area": LUTON, "kpi": "ehcp_20wk_incl"}, page=EXPLAIN)
    text = text_of(at)
    assert "3 of 3" in text and "3 records in the denominator, 3 of them met the time limit" in text
    at = run_app({"period": "2023-07", "area": LUTON, "kpi": "ehcp_20wk_incl"}, page=TRAJECTORY_PAGE)
    assert "100.0%" in text_of(at)


def test_a_link_to_an_area_not_loaded_falls_back_with_a_note(two_areas):
    at = run_app({"period": "2023-07", "area": "E08000025"})
    assert _area_box(at).value == HOME
    assert ("The link asks for the local area “E08000025”, which is not available. Showing Central Bedfordshire "
            "instead.") in text_of(at)


def test_one_area_has_no_selector(build_db, monkeypatch):
    monkeypatch.setenv("APP_DB", str(build_db(plan_extract())))
    at = run_app({"period": "2023-07"})
    assert _area_box(at) is None
    assert "**Central Bedfordshire** · monitoring window" in text_of(at)


def test_the_kpi_page_of_an_area_without_a_plan_draws_no_plan(tmp_path, monkeypatch):
    """Thurrock has no plan: its KPI page says so and its charts shade no window and draw no trajectory (not the
    home area's either)."""
    from kpi.area_plans import NO_PLAN

    thurrock = luton_extract()
    thurrock.rows["sen2"][0]["lea"] = "883"
    db = tmp_path / "areas.duckdb"
    load_areas([(HOME, [plan_extract().write(tmp_path / "cb")]), ("883", [thurrock.write(tmp_path / "th")])], db)
    monkeypatch.setenv("APP_DB", str(db))
    at = run_app({"period": "2023-07", "area": "E06000034", "kpi": "ehcp_20wk_excl"}, page=TRAJECTORY_PAGE)
    assert NO_PLAN in text_of(at)
    specs = [c.proto.spec for c in at.get("plotly_chart")]
    assert specs and not any("monitoring window" in s or "Plan window" in s or "Trajectory (plan)" in s
                             for s in specs)
    home = run_app({"period": "2023-07", "kpi": "ehcp_20wk_excl"}, page=TRAJECTORY_PAGE)
    assert any("APP monitoring window" in c.proto.spec for c in home.get("plotly_chart"))
