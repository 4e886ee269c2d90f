"""Each area judged against its own plan in what a meeting reads: ``python -m kpi changes`` and the board pack's
rows (kpi/views/changes.py, kpi/views/pack.py); an area without a plan gets its figures without status, saying so."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from etl.load import load_areas
from kpi import area_plans, definitions, notes
from kpi.__main__ import main as kpi_main
from kpi.access import audit, roles
from kpi.views.pack import load_pack, pack_html, plan_rows
from tests.support.app import plan_extract

KPI = "ehcp_20wk_excl"  # 12 of 26 plans on time in the 12 months to July 2023: 46.2% on the rolling basis
LUTON, THURROCK, BEDFORD = "E06000032", "E06000034", "E06000055"  # DfE LA numbers 821, 883, 822
LA_NUMBER = {LUTON: "821", THURROCK: "883", BEDFORD: "822"}
PERIOD, SINCE = "2023-07", "2023-06"
PSEUDONYM_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def _plan_file(folder: Path, area: str, name: str, baseline: float, target: float) -> None:
    """A one-KPI plan for ``area``: from ``baseline`` in January 2023 to ``target`` by January 2024."""
    (folder / f"{area}.yaml").write_text(
        f"area: {area}\nplans:\n  - name: {name}\n    start: '2023-02'\n    end: '2024-01'\n    kpis:\n"
        f"      {KPI}:\n        baseline: {{value: {baseline}, period: '2023-01'}}\n"
        f"        target: {{value: {target}, period: '2024-01', source: Local}}\n"
        "        tolerance: 1\n        basis: rolling_12m\n", encoding="utf-8")


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """The same extract loaded for Luton, Thurrock and Bedford."""
    folder = tmp_path_factory.mktemp("three_areas")
    loads = []
    for area, number in LA_NUMBER.items():
        extract = plan_extract()
        extract.rows["sen2"][0]["lea"] = number
        loads.append((area, [extract.write(folder / area)]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APP_PSEUDONYM_KEY", PSEUDONYM_KEY)
        assert load_areas(loads, folder / "app.duckdb").exit_code == 0
    return folder / "app.duckdb"


@pytest.fixture(autouse=True)
def plans(tmp_path, monkeypatch) -> Path:
    """Luton's plan is easy to meet (10% → 20%), Thurrock's hard (90% → 100%); Bedford has none."""
    folder = tmp_path / "plans"
    folder.mkdir()
    _plan_file(folder, LUTON, "Luton APP", 10, 20)
    _plan_file(folder, THURROCK, "Thurrock improvement plan", 90, 100)
    monkeypatch.setenv(area_plans.ENV_VAR, str(folder))
    monkeypatch.setenv(notes.ENV_VAR, str(tmp_path / "app.notes.duckdb"))
    monkeypatch.setenv(audit.ENV_VAR, str(tmp_path / "app.audit.duckdb"))
    for var in (roles.ENV_VAR, roles.ROLE_ENV_VAR):
        monkeypatch.delenv(var, raising=False)
    return folder


@pytest.fixture(scope="module")
def catalogue():
    return definitions.load()


def _changes(db: Path, capsys, *area: str) -> pd.DataFrame:
    code = kpi_main(["changes", "--db", str(db), "--period", PERIOD, "--since", SINCE, "--on", "2023-08-01",
                     *(["--area", *area] if area else [])])
    out, err = capsys.readouterr()
    assert code == 0, err
    return pd.read_csv(io.StringIO(out))


def test_kpi_changes_judges_each_area_against_its_own_plan(db, capsys):
    df = _changes(db, capsys)
    planned = df[df["area_code"].isin([LUTON, THURROCK])].set_index("area_code")
    assert list(planned.loc[:, "kpi_id"]) == [KPI, KPI]  # only the KPI their plans cover
    assert planned.loc[LUTON, ["plan", "status_now"]].tolist() == ["Luton APP", "on_track"]
    assert planned.loc[THURROCK, ["plan", "status_now"]].tolist() == ["Thurrock improvement plan", "off_track"]
    assert planned.loc[LUTON, "value_now"] == planned.loc[THURROCK, "value_now"]  # same figures, other plans


def test_kpi_changes_shows_an_area_without_a_plan_without_status(db, capsys, catalogue):
    df = _changes(db, capsys, "822")
    assert set(df["area_code"]) == {BEDFORD}
    assert set(df["kpi_id"]) == set(catalogue.ids)  # every KPI's figures
    assert set(df["plan"]) == {area_plans.NO_PLAN}
    assert df["status_then"].isna().all() and df["status_now"].isna().all()
    assert df["status_change"].isna().all()  # '' in the CSV
    assert df.set_index("kpi_id").loc[KPI, "value_now"] == 50  # the month: 1 of 2 on time


def _pack(db: Path, catalogue, area: str):
    book = area_plans.load(catalogue, None)
    return load_pack(db, catalogue, roles.load(catalogue=catalogue), PERIOD, "analyst", area, SINCE,
                     date(2023, 8, 1), plans=book)


def test_the_packs_rows_judge_each_area_against_its_own_plan(db, catalogue):
    luton, thurrock = (plan_rows(_pack(db, catalogue, a))[0].set_index("kpi_id") for a in (LUTON, THURROCK))
    assert list(luton.index) == [KPI] and list(thurrock.index) == [KPI]
    assert (luton.loc[KPI, "status"], thurrock.loc[KPI, "status"]) == ("on_track", "off_track")
    assert luton.loc[KPI, "trajectory"] < 20 < 90 < thurrock.loc[KPI, "trajectory"]
    html = pack_html(_pack(db, catalogue, THURROCK))
    assert "Thurrock improvement plan" in html and area_plans.NO_PLAN not in html
    assert "Summary: every plan KPI, July 2023" in html


def test_the_pack_of_an_area_without_a_plan_shows_figures_without_status(db, catalogue):
    pack = _pack(db, catalogue, BEDFORD)
    rows, reasons = plan_rows(pack)
    assert set(rows["kpi_id"]) == set(catalogue.ids)
    assert not any("Off track" in r for why in reasons.values() for r in why)  # SPC concerns need no plan
    assert rows["status"].isna().all() and rows["trajectory"].isna().all()
    assert rows.set_index("kpi_id").loc[KPI, "value"] == 50  # the month: 1 of 2 on time
    html = pack_html(pack)
    assert area_plans.NO_PLAN in html
    assert catalogue.plan_window.name not in html  # the home area's plan is not named
    assert "APP monitoring window" not in html and "trajectory (plan)" not in html  # no chart of a plan
    assert "Summary: every KPI, without status, July 2023" in html and "every plan KPI" not in html


def test_kpi_pack_of_an_area_without_a_plan_says_so_in_its_line(db, tmp_path, capsys):
    out = tmp_path / "bedford.html"
    code = kpi_main(["pack", "--db", str(db), "--period", PERIOD, "--area", BEDFORD, "--out", str(out)])
    said, err = capsys.readouterr()
    assert code == 0, err
    assert said.strip() == f"board pack for {PERIOD}, Bedford ({area_plans.NO_PLAN}), for leadership: {out}"
    assert "Summary: every KPI, without status" in out.read_text(encoding="utf-8")
    code = kpi_main(["pack", "--db", str(db), "--period", PERIOD, "--area", LUTON, "--out", str(out)])
    said, err = capsys.readouterr()
    assert code == 0 and area_plans.NO_PLAN not in said, err
    assert "Summary: every plan KPI" in out.read_text(encoding="utf-8")
