"""The demo end to end: generate → load → engine. December's rolling 12-month value is the calendar-year figure, and it
must match Central Bedfordshire's published figures (DfE's Education, health and care plans release) within the
calibration tolerances, computed by the product's own engine rather than by the generator."""

from __future__ import annotations

import duckdb
import pytest

from etl.__main__ import main as etl_main
from kpi import definitions
from kpi.engine.series import kpi_series, open_readonly

# Calendar year → (requests, plans issued, % incl. exceptions, % excl. exceptions), as DfE published them.
PUBLISHED = {
    2019: (375, 206, 88.3, 88.8),
    2020: (478, 324, 51.2, 61.9),
    2021: (618, 474, 10.8, 12.7),
    2022: (736, 530, 9.4, 12.0),
    2023: (909, 721, 27.5, 33.4),
    2024: (944, 649, 42.5, 48.8),
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "app.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setenv("APP_PSEUDONYM_KEY", "ab" * 32)
    try:
        assert etl_main(["demo", "--db", str(db), "--out", str(folder / "extract")]) == 0
        con = open_readonly(db)
        try:
            series = kpi_series(con, definitions.load())
        finally:
            con.close()
        yield db, series
    finally:
        mp.undo()


def _december(series, kpi_id, year):
    return series[(series["kpi_id"] == kpi_id) & (series["period"] == f"{year}-12")].iloc[0]


def _scalar(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_calendar_year_rates_match_published_within_5_points(demo, year):
    _, series = demo
    _, _, incl, excl = PUBLISHED[year]
    assert _december(series, "ehcp_20wk_incl", year)["rolling_12m"] == pytest.approx(incl, abs=5)
    assert _december(series, "ehcp_20wk_excl", year)["rolling_12m"] == pytest.approx(excl, abs=5)


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_calendar_year_counts_match_published_within_10_percent(demo, year):
    db, series = demo
    requests, plans, _, _ = PUBLISHED[year]
    issued = series[(series["kpi_id"] == "ehcp_20wk_incl") & series["period"].str.startswith(str(year))]
    assert issued["denominator"].sum() == pytest.approx(plans, rel=0.10)
    received = _scalar(
        db, "SELECT count(*) FROM request WHERE year(received_date) = ? AND request_outcome IS DISTINCT FROM 'H'",
        [year])
    assert received == pytest.approx(requests, rel=0.10)


def test_demo_loads_cleanly_and_covers_the_window(demo):
    db, series = demo
    assert _scalar(db, "SELECT sum(rows_quarantined) FROM load_log") == 0
    assert _scalar(db, "SELECT count(DISTINCT module) FROM load_log WHERE layout = 'sen2_blade'") == 9
    assert _scalar(db, "SELECT count(DISTINCT module) FROM load_log WHERE layout LIKE 'local_%'") == 5
    assert series["period"].min() == "2019-01" and series["period"].max() == "2025-01"  # dated 1 January 2025
    assert not series.loc[series["period"] == "2025-01", "complete"].any()  # one day of January: partial
    assert series.loc[series["period"] == "2025-01", "status"].isna().all()
    statuses = set(series.loc[series["period"].between("2023-02", "2024-01"), "status"].dropna())
    assert statuses <= {"on_track", "within_tolerance", "off_track", "no_data", "too_few"} and statuses


def test_rerunning_the_demo_is_a_no_op(demo, capsys):
    db, _ = demo
    before = _scalar(db, "SELECT count(*) FROM request")
    mp = pytest.MonkeyPatch()
    mp.setenv("APP_PSEUDONYM_KEY", "ab" * 32)
    try:
        assert etl_main(["demo", "--db", str(db), "--out", str(db.parent / "extract")]) == 0
    finally:
        mp.undo()
    assert "already loaded" in capsys.readouterr().out
    assert _scalar(db, "SELECT count(*) FROM request") == before


def test_demo_loads_the_waiting_list_extract_with_shared_children(demo):
    db, series = demo
    assert _scalar(db, "SELECT count(*) FROM referral") > 10000
    assert _scalar(db, "SELECT count(*) FROM quarantine") == 0
    # some referrals belong to children in the SEN2 extract: the same pseudonym links them
    assert _scalar(db, "SELECT count(DISTINCT r.patient_key) FROM referral r JOIN person p "
                       "ON p.person_key = r.patient_key") > 100
    jan = series[(series["kpi_id"] == "waiting_list_size_salt") & (series["period"] == "2024-01")]
    assert jan["value"].iloc[0] > 0


def test_a_new_demo_replaces_the_last_ones_files_beside_its_database(tmp_path, monkeypatch):
    """The default folder is the database's own (two demo databases in one folder do not share it) and holds only
    the latest demo: a shorter window's files are never loaded beside a longer one's."""
    monkeypatch.setenv("APP_PSEUDONYM_KEY", "ab" * 32)
    db = tmp_path / "small.duckdb"
    assert etl_main(["demo", "--db", str(db), "--months", "14", "--start", "2023-01"]) == 0
    folder = tmp_path / "small_demo_extract"
    first = {p.name for p in folder.glob("*.csv")}
    assert first and not (tmp_path / "demo_extract").exists()
    assert etl_main(["demo", "--db", str(tmp_path / "other.duckdb"), "--months", "13", "--start", "2023-01"]) == 0
    assert {p.name for p in folder.glob("*.csv")} == first  # the other database's demo did not touch it
    assert etl_main(["demo", "--db", str(db), "--months", "13", "--start", "2023-01"]) == 0
    second = {p.name for p in folder.glob("*.csv")}
    assert second and second != first and not (second & {n for n in first if "Blade-Export" in n})
