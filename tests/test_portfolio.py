"""A monitor's portfolio over a real database: each assigned area's row with its data's as-at date and freshness
(``python -m kpi portfolio`` and the Portfolio page), and a link to an unassigned area refused and audited.

Central Bedfordshire (the home area, its plan in kpi_definitions.yaml) holds the plan extract of
tests/support/app.py, as at 5 October 2023; Luton the same records in an extract as at 20 June 2023; Thurrock three
plans a month, all within 20 weeks (July 2023: 100.0%). Luton and Thurrock each have a plan file; the monitor is
assigned Central Bedfordshire and Luton only.
"""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from streamlit.testing.v1 import AppTest

from etl.load import load_areas
from kpi import area_plans
from kpi.__main__ import main as kpi_main
from kpi.access import audit, roles
from tests.support.app import APP, plan_extract, run_app, text_of
from tests.support.blade import Blade, blade_date

HOME, LUTON, THURROCK = "E06000056", "E06000032", "E06000034"
PERIOD = "2023-07"
PORTFOLIO_PAGE = "pages/portfolio.py"
PSEUDONYM_KEY = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"


def _thurrock() -> Blade:
    b = Blade()
    b.rows["sen2"][0].update(lea="883", referencedate=blade_date("2023-10-05"))
    for i in range(21):  # January 2022 … September 2023
        issued = date(2022 + i // 12, i % 12 + 1, 15)
        for _ in range(3):
            b.issued_plan((issued - timedelta(days=90)).isoformat(), issued.isoformat())
    return b


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("portfolio")
    luton = plan_extract()
    luton.rows["sen2"][0].update(lea="821", referencedate=blade_date("2023-06-20"))
    loads = [(HOME, [plan_extract().write(folder / "cb")]), (LUTON, [luton.write(folder / "lu")]),
             (THURROCK, [_thurrock().write(folder / "th")])]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APP_PSEUDONYM_KEY", PSEUDONYM_KEY)
        assert load_areas(loads, folder / "app.duckdb").exit_code == 0
    return folder / "app.duckdb"


@pytest.fixture(autouse=True)
def setting(tmp_path, monkeypatch, db) -> Path:
    """Luton's and Thurrock's plan files, a monitor assigned the home area and Luton, the audit file in tmp_path."""
    plans = tmp_path / "plans"
    plans.mkdir()
    for area, name in ((LUTON, "Luton APP"), (THURROCK, "Thurrock APP")):
        plan = {"name": name, "start": "2023-02", "end": "2024-01", "kpis": {"ehcp_20wk_excl": {
            "baseline": {"value": 40, "period": "2023-01"}, "target": {"value": 60, "period": "2024-01",
                                                                       "source": "Local"},
            "tolerance": 2, "basis": "rolling_12m"}}}
        (plans / f"{area}.yaml").write_text(yaml.safe_dump({"area": area, "plans": [plan]}), encoding="utf-8")
    access = tmp_path / "access.yaml"
    access.write_text("roles:\n  pages: {monitor: [overview, portfolio, kpi_trajectory, benchmarks], "
                      "leadership: [overview, kpi_trajectory], analyst: all}\n"
                      f"  areas: {{monitor: [{HOME}, {LUTON}]}}\n", encoding="utf-8")
    monkeypatch.setenv(area_plans.ENV_VAR, str(plans))
    monkeypatch.setenv(roles.ENV_VAR, str(access))
    monkeypatch.setenv(audit.ENV_VAR, str(tmp_path / "audit.duckdb"))
    monkeypatch.setenv("APP_DB", str(db))
    monkeypatch.delenv(roles.ROLE_ENV_VAR, raising=False)
    return tmp_path / "audit.duckdb"


def _portfolio_cli(db: Path, capsys, *args: str) -> pd.DataFrame:
    code = kpi_main(["portfolio", "--db", str(db), "--period", PERIOD, *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return pd.read_csv(io.StringIO(out), dtype=str)


def test_kpi_portfolio_gives_each_areas_as_at_date_and_freshness(db, capsys):
    rows = _portfolio_cli(db, capsys).set_index("area_code")
    assert list(rows.index) == [HOME, LUTON, THURROCK]  # in name order
    assert rows.loc[HOME, "as_at"] == "2023-10-05" and rows.loc[HOME, "freshness"] == "Up to date"
    assert rows.loc[LUTON, "as_at"] == "2023-06-20"
    assert rows.loc[LUTON, "freshness"] == "Stale: 1 month behind the chosen month"
    mine = _portfolio_cli(db, capsys, "--role", "monitor")
    assert list(mine["area_code"]) == [HOME, LUTON]  # Thurrock is not assigned to monitors
    assert list(mine.columns[-2:]) == ["as_at", "freshness"]
    code = kpi_main(["portfolio", "--db", str(db), "--period", PERIOD, "--role", "monitor", "--format", "json"])
    assert code == 0 and json.loads(capsys.readouterr().out)[1]["freshness"].startswith("Stale: 1 month")


@pytest.mark.slow
def test_the_portfolio_page_shows_each_assigned_areas_as_at_date_and_freshness(monkeypatch):
    monkeypatch.setenv(roles.ROLE_ENV_VAR, "monitor")
    at = run_app({"period": PERIOD}, page=PORTFOLIO_PAGE)
    shown = at.dataframe[0].value.set_index("area_code")
    assert list(shown["area_name"]) == ["Central Bedfordshire", "Luton"]  # not Thurrock: not assigned
    assert shown.loc[LUTON, "freshness"] == "Stale: 1 month behind the chosen month"
    assert shown.loc[HOME, "freshness"] == "Up to date" and str(shown.loc[LUTON, "as_at"]) == "2023-06-20"


@pytest.mark.slow
@pytest.mark.parametrize("page", [None, PORTFOLIO_PAGE])
def test_a_monitor_linking_to_an_unassigned_area_is_refused_and_audited(setting, monkeypatch, page):
    monkeypatch.setenv(roles.ROLE_ENV_VAR, "monitor")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"period": PERIOD, "area": THURROCK})
    if page:
        at.switch_page(page)  # the link opens this page straight away
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(h.value.startswith("Portfolio") for h in at.header) == bool(page)  # the page asked for, shown
    errors = " ".join(e.value for e in at.error)
    assert f"The link asks for the local area “{THURROCK}”, which is not assigned to you" in errors
    text = text_of(at) + " ".join(str(d.value) for d in at.dataframe)
    assert "Thurrock" not in text and "100.0%" not in text  # none of its figures, not even its name
    assert at.query_params.get("area") != THURROCK
    refused = audit.read_log(setting, event="access_denied")
    assert len(refused) >= 1 and set(refused["outcome"]) == {"refused: area not assigned"}
    assert {json.loads(d)["area"] for d in refused["detail"]} == {THURROCK}
    assert set(refused["role"]) == {"monitor"}
