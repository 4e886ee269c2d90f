"""Reconciliation: local calendar-year figures from person-level records beside DfE's published ones."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date, timedelta

import duckdb
import pytest

from etl.load import load_paths
from kpi.__main__ import main as kpi_main
from kpi.engine.benchmark import resolve_area
from kpi.engine.reconcile import _flag, complete_years, reconcile
from tests.support.blade import Blade, blade_date

CB = "E06000056"


def _cb_2024(drop_within: int = 0) -> Blade:
    """Central Bedfordshire's published 2024 timeliness, plan by plan: 555 plans without exceptions (271 within
    20 weeks) and 94 with exceptions (5 within), issued through the year; requests received from mid-2023."""
    b = Blade()
    plans = [(False, True)] * (271 - drop_within) + [(False, False)] * 284 + [(True, True)] * 5 + [(True, False)] * 89
    for i, (exception, within) in enumerate(plans):
        issued = date(2024, 1, 5) + timedelta(days=i * 360 // len(plans))
        received = issued - timedelta(days=100 if within else 200)
        b.issued_plan(received.isoformat(), issued.isoformat(), week20=int(exception))
    return b


@pytest.fixture
def reconcile_db(published_db, tmp_path):
    def _make(blade: Blade):
        db = tmp_path / f"rec{len(list(tmp_path.glob('*.duckdb')))}.duckdb"
        shutil.copy(published_db, db)
        load_paths([blade.write(tmp_path / db.stem)], db)
        return db

    return _make


def _rows(df, kpi_id, year):
    return df[(df["kpi_id"] == kpi_id) & (df["year"] == year)].set_index("measure")


def test_local_figures_that_match_the_published_ones(reconcile_db, catalogue):
    con = duckdb.connect(str(reconcile_db(_cb_2024())), read_only=True)
    try:
        df = reconcile(con, catalogue, resolve_area(con, "823"))
    finally:
        con.close()
    assert set(df["year"]) == {2024}  # 2023 is only partly covered by the extract
    excl = _rows(df, "ehcp_20wk_excl", 2024)
    assert (excl.loc["numerator", "local"], excl.loc["numerator", "published"]) == (271, 271)
    assert (excl.loc["denominator", "local"], excl.loc["denominator", "published"]) == (555, 555)
    assert excl.loc["value", "local"] == pytest.approx(100 * 271 / 555)
    assert excl.loc["value", "published"] == 48.8
    assert excl.loc["value", "difference"] == pytest.approx(100 * 271 / 555 - 48.8)
    assert not excl["flagged"].any()
    incl = _rows(df, "ehcp_20wk_incl", 2024)
    assert (incl.loc["numerator", "local"], incl.loc["denominator", "local"]) == (276, 649)
    assert not incl["flagged"].any()
    # Every request in this extract is decided in 30 days: 100% against DfE's 92.9%, flagged, with the reason.
    req = _rows(df, "request_decision_6wk", 2024)
    assert req.loc["value", "published"] == 92.9 and req.loc["value", "flagged"]
    assert "DfE counts the decisions made in the calendar year, as the KPI does" in req.loc["value", "note"]
    assert "requests received" not in req.loc["value", "note"]


def test_differences_over_the_tolerances_are_flagged(reconcile_db, catalogue, capsys):
    db = reconcile_db(_cb_2024(drop_within=20))  # 251 of 535 within 20 weeks: 46.9%
    assert kpi_main(["reconcile", "--db", str(db)]) == 0
    captured = capsys.readouterr()
    rows = [r for r in csv.DictReader(io.StringIO(captured.out)) if r["kpi_id"] == "ehcp_20wk_excl"]
    got = {r["measure"]: r for r in rows}
    assert got["value"]["flagged"] == "True"
    assert float(got["value"]["difference"]) == pytest.approx(100 * 251 / 535 - 48.8, abs=0.01)
    assert got["numerator"]["flagged"] == "True" and got["numerator"]["difference"] == "-20.0"
    assert got["denominator"]["flagged"] == "True"  # 535 against 555: 3.6%
    assert "flagged" in captured.err


def test_json_and_unpublished_years(reconcile_db, capsys):
    b = _cb_2024()
    b.rows["sen2"][0]["referencedate"] = blade_date("2026-01-15")  # an extract dated after 2025
    b.issued_plan("2025-01-02", "2025-12-20")  # 2025 complete in the window, not yet published
    db = reconcile_db(b)
    assert kpi_main(["reconcile", "--db", str(db), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    later = [r for r in data if r["year"] == 2025 and r["kpi_id"] == "ehcp_20wk_excl"]
    assert later and all(r["published"] is None and r["flagged"] is False for r in later)
    assert all("not published" in r["note"] for r in later)


def test_tolerance_boundaries():
    assert _flag("value", 49.8, 48.8) == (pytest.approx(1.0), False)
    assert _flag("value", 49.81, 48.8)[1] is True
    assert _flag("numerator", 102, 100) == (2, False)
    assert _flag("numerator", 103, 100) == (3, True)
    assert _flag("denominator", 1, 0) == (1, True)
    assert _flag("value", None, 48.8) == (None, False)


def test_complete_years():
    months = [f"2023-{m:02d}" for m in range(6, 13)] + [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01"]
    assert complete_years(months) == [2024]


def test_refusals(reconcile_db, published_db, build_db, tmp_path, capsys):
    db = reconcile_db(_cb_2024())
    assert kpi_main(["reconcile", "--db", str(db), "--area", "822"]) == 2
    assert "no SEN2 records for Bedford (822/E06000055) are loaded; areas with records: E06000056" in \
        capsys.readouterr().err
    assert kpi_main(["reconcile", "--db", str(published_db)]) == 2
    assert "no SEN2 records loaded" in capsys.readouterr().err
    b = Blade()
    b.issued_plan("2023-01-02", "2023-05-01")
    assert kpi_main(["reconcile", "--db", str(build_db(b))]) == 2
    assert "no published data loaded" in capsys.readouterr().err


def test_review_decision_flag_names_dfe_census_basis(reconcile_db, catalogue):
    b = _cb_2024()
    r = b.issued_plan("2023-01-09", "2023-05-02")
    b.review(r, "2024-04-10", "2024-04-20", "M")  # one decision in 2024, within 4 weeks: 100%
    con = duckdb.connect(str(reconcile_db(b)), read_only=True)
    try:
        df = reconcile(con, catalogue, resolve_area(con, "823"))
    finally:
        con.close()
    rev = _rows(df, "ar_decision_4wk", 2024)
    assert rev.loc["value", "local"] == 100.0 and rev.loc["value", "flagged"]
    assert ("DfE takes the latest review decision on each plan held at the January census, whatever its year"
            in rev.loc["value", "note"])
