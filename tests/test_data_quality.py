"""The Data quality page and the functions behind it: load history, quarantine, freshness, revisions."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from etl.load import load_areas, load_paths
from kpi.engine.data_quality import (
    freshness,
    freshness_status,
    load_history,
    month_freshness,
    quality_report,
    quarantine_rows,
    revisions,
)
from kpi.engine.series import open_readonly
from kpi.views.quality_view import (
    DAY,
    MOMENT,
    date_formats,
    freshness_shown,
    headline,
    history_shown,
    quarantine_shown,
    revisions_shown,
    warnings_shown,
)
from tests.support.blade import Blade
from tests.support.local_extracts import ADVICE, write
from tests.support.published import PUBLISHED_DATA

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.mark.parametrize(
    "age, expected", [(0, "up_to_date"), (31, "up_to_date"), (32, "due"), (45, "due"), (46, "overdue")]
)
def test_freshness_status_boundaries_for_a_monthly_source(age, expected):
    today = date(2025, 3, 31)
    assert freshness_status(today - timedelta(days=age), 31, today) == expected


def test_a_source_never_loaded_is_said_so():
    assert freshness_status(None, 31, date(2025, 1, 1)) == "never"


@pytest.mark.parametrize("as_at, expected", [
    ("2023-07-31", "Up to date"), (date(2023, 10, 5), "Up to date"),  # the chosen month covered to its last day
    ("2023-07-30", "Partial month: data as at day 30 of the chosen month"),
    ("2023-06-30", "Stale: 1 month behind the chosen month"),
    ("2023-04-15", "Stale: 3 months behind the chosen month"),
    ("2022-12-31", "Stale: 7 months behind the chosen month"),  # across a year end
    (None, "No as-at date"), (float("nan"), "No as-at date"),
])
def test_month_freshness_says_how_the_data_stands_to_the_chosen_month(as_at, expected):
    assert month_freshness(as_at, "2023-07") == expected


def _extract(year: int, outcome: str = "A", decided: str | None = None) -> Blade:
    b = Blade()
    b.rows["sen2"][0]["year"] = year
    b.person(pid=501, surname="Featherstonehaugh")
    b.request(501, "2023-01-02", outcome, decided, rid=900)
    b.issued_plan("2023-01-09", "2023-05-01")
    return b


@pytest.fixture
def quality_db(tmp_path):
    """Two monthly loads (the second revises request 900 and has a bad row) and an advice extract."""
    db = tmp_path / "app.duckdb"
    load_paths([_extract(2025).write(tmp_path / "jan")], db)
    feb = _extract(2026, "Y", "2023-02-10")
    feb.request(501, "2023-13-01", "A", None)  # quarantined: not a date
    folder = feb.write(tmp_path / "feb")
    write(folder / "advice.csv", ADVICE, [["A1", "501", "EP", "2023-03-01", "2023-03-20"]])
    load_paths([folder], db)
    return db


def _con(db):
    return duckdb.connect(str(db), read_only=True)


def test_history_quarantine_and_revisions(quality_db):
    con = _con(quality_db)
    try:
        history = load_history(con)
        q = quarantine_rows(con)
        rev = revisions(con)
        fresh = freshness(con, date.today()).set_index("Source")
    finally:
        con.close()
    assert history["Load"].is_monotonic_decreasing
    assert "! Loaded, some rows quarantined" in set(history["Outcome"])
    assert history["Loaded by"].notna().all()
    assert q[["Module", "Row", "Column", "Value as read"]].values.tolist() == [
        ["requests", 3, "receiveddate", "2023-13-01"]
    ]
    assert '"receiveddate":"2023-13-01"' in q["Row as read"].iloc[0]
    assert '"persontableid":"(pseudonym)"' in q["Row as read"].iloc[0]
    revised = rev[rev["Module"] == "requests"]
    assert revised["Record"].tolist() == ["900"]
    assert revised["Changed"].iloc[0] == "request_outcome_date, request_outcome"
    assert '"request_outcome":"A"' in revised["Previous values"].iloc[0]
    assert fresh.loc["SEN2 case records", "Status"] == "✔ Up to date"
    assert fresh.loc["Advice requests", "Status"] == "✔ Up to date"
    assert fresh.loc["EHCP quality audits", "Status"] == "– Never loaded"
    assert fresh.loc["SEN2 case records", "Latest record"] == date(2023, 1, 9)
    assert fresh.loc["SEN2 case records", "Expected"] == "monthly"


def test_freshness_is_overdue_when_the_last_load_is_old(quality_db):
    con = _con(quality_db)
    try:
        fresh = freshness(con, date.today() + timedelta(days=60)).set_index("Source")
    finally:
        con.close()
    assert fresh.loc["SEN2 case records", "Status"] == "✖ Overdue"


def test_only_changed_values_are_revisions_and_ages_survive_an_unchanged_person_file(quality_db):
    con = _con(quality_db)
    try:
        rev = revisions(con)
        ages = con.execute("SELECT request_id, age_at_request FROM request ORDER BY 1").fetchall()
    finally:
        con.close()
    assert sorted(rev["Module"]) == ["requests", "sen2"]  # request 900 and the header's year; nothing else
    assert all(age is not None for _, age in ages)


def test_pseudonyms_are_shortened_in_revisions(tmp_path):
    db = tmp_path / "a.duckdb"
    folder = tmp_path / "m1"
    write(
        folder / "rt.csv", ["person_id", "start_date", "end_date", "hours_per_week"], [["501", "2023-03-01", "", "10"]]
    )
    load_paths([folder], db)
    write(
        tmp_path / "m2" / "rt.csv",
        ["person_id", "start_date", "end_date", "hours_per_week"],
        [["501", "2023-03-01", "2023-04-30", "10"]],
    )
    load_paths([tmp_path / "m2"], db)
    con = _con(db)
    try:
        rev = revisions(con)
    finally:
        con.close()
    assert len(rev) == 1 and rev["Changed"].iloc[0] == "end_date"
    record = rev["Record"].iloc[0]
    assert record.endswith("…|2023-03-01") and len(record) < 30
    assert "(pseudonym)" in rev["Previous values"].iloc[0]


def test_headline_counts_in_words_with_their_plurals(quality_db):
    con = _con(quality_db)
    try:
        report = quality_report(con)
    finally:
        con.close()
    loads = report.history["Load"].nunique()
    assert headline(report) == (f"{loads} files or sheets loaded, 1 row quarantined, 0 sources overdue, "
                                f"{len(report.revisions)} record revisions")
    assert "(s)" not in headline(report)


def test_the_tables_shown_have_no_none_cell_and_one_date_style(quality_db):
    """Issue 20: a gap is blank or a word, never "None"; every date column stays a datetime (so that it sorts by
    date) with a display format in the page's one date style, '5 Dec 2026' (a time after a comma)."""
    con = _con(quality_db)
    try:
        report = quality_report(con)
    finally:
        con.close()
    frames = {"freshness": freshness_shown(report.freshness), "history": history_shown(report.history),
              "quarantine": quarantine_shown(report.quarantine), "warnings": warnings_shown(report.warnings),
              "revisions": revisions_shown(report.revisions)}
    assert report.freshness.isna().any().any()  # sources never loaded: the gaps are there to be shown
    for name, frame in frames.items():
        formats = date_formats(frame)
        dated = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
        assert set(formats) == set(dated), name  # every date column has its format, and only they
        assert set(formats.values()) <= {DAY, MOMENT}, name
        others = frame.drop(columns=dated)
        assert not others.isna().any().any(), name  # a date's gap is the table's placeholder, never "None"
        cells = others.astype(str).to_numpy().ravel()
        assert not {"None", "nan", "NaT", "<NA>"} & set(cells), name
    assert date_formats(frames["freshness"]) == dict.fromkeys(("Last loaded", "Data as at", "Latest record"), DAY)
    assert date_formats(frames["history"]) == {"Finished": MOMENT, "Data as at": DAY}
    assert date_formats(frames["revisions"]) == {"Revised": MOMENT}
    fresh = frames["freshness"].set_index("Source")
    assert fresh.loc["SEN2 case records", "Latest record"] == pd.Timestamp("2023-01-09")
    assert fresh.loc["EHCP quality audits", ["Last loaded", "Latest record"]].isna().all()
    assert fresh.loc["EHCP quality audits", "Days since"] == ""


@pytest.mark.slow  # a page under AppTest
def test_the_data_quality_page(quality_db, monkeypatch):
    monkeypatch.setenv("APP_DB", str(quality_db))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/data_quality.py").run()
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(str(m.value) for m in (*at.markdown, *at.caption, *at.header, *at.subheader))
    assert "Data quality" in text and "1 row quarantined" in text
    frames = [df.value for df in at.dataframe]
    fresh = next(f for f in frames if "Source" in f.columns)
    assert "✔ Up to date" in set(fresh["Status"]) and "– Never loaded" in set(fresh["Status"])
    quarantine = next(f for f in frames if "Reason" in f.columns and "Row" in f.columns)
    assert quarantine["Reason"].tolist() == ["not a valid date"]
    assert any("Changed" in f.columns for f in frames)
    # the database's own path is shown to the analyst, and pytest's folder for it may be "pytest-501"
    shown = ("\n".join(f.to_csv() for f in frames) + text).replace(str(quality_db), "<database>")
    # the child's name and person id (501) nowhere; digits inside a load's timestamp are not an id
    assert "Featherstonehaugh" not in shown and not re.search(r"(?<![\d.:])501(?!\d)", shown)
    assert [t.label for t in at.tabs][:3] == ["Load history (12)", "Quarantined rows (1)", "Revisions (2)"]
    assert [t.label for t in at.tabs][4].startswith("Record checks (")
    assert any("How the KPIs read them" in f.columns for f in frames)


def _page_as(role: str, db, monkeypatch) -> AppTest:
    """The Data quality page as ``role`` sees it (local mode previewing that role)."""
    monkeypatch.setenv("APP_DB", str(db))
    monkeypatch.setenv("APP_ROLE", role)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/data_quality.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.slow  # a page under AppTest
def test_leadership_sees_freshness_but_not_the_quarantined_rows(quality_db, monkeypatch):
    at = _page_as("leadership", quality_db, monkeypatch)
    frames = [df.value for df in at.dataframe]
    assert any("Source" in f.columns for f in frames)
    assert not any("Reason" in f.columns for f in frames)
    assert any("shown to analysts only" in str(i.value) for i in at.info)


def test_freshness_lists_referrals_and_published_sources_per_area(tmp_path):
    """The referral extract is a monthly source with its latest referral; statistical neighbours count as DfE's
    published statistics; another area's loads do not make this area's sources fresh."""
    from tests.support.waits import referral, write_csv

    db = tmp_path / "fresh.duckdb"
    write_csv(tmp_path / "cb" / "referrals.csv", [referral("P1", "SALT", "2024-03-04")])
    write_csv(tmp_path / "lu" / "referrals.csv", [referral("P1", "SALT", "2024-05-06")])
    load_areas([("E06000056", [tmp_path / "cb"]), ("E06000032", [tmp_path / "lu"])], db)
    load_paths([PUBLISHED_DATA / "statistical_neighbours.csv.gz"], db)
    con = open_readonly(db)
    try:
        home = freshness(con, date.today(), "E06000056").set_index("Source")
        luton = freshness(con, date.today(), "E06000032").set_index("Source")
    finally:
        con.close()
    assert str(home.loc["Waiting-list referrals", "Latest record"])[:10] == "2024-03-04"
    assert str(luton.loc["Waiting-list referrals", "Latest record"])[:10] == "2024-05-06"
    assert home.loc["DfE published statistics", "Status"] != "– Never loaded"  # shared by every area
    assert "dfe_stat_neighbours" not in home.index and home.loc["SEN2 case records", "status"] == "never"


@pytest.mark.slow  # a page under AppTest
def test_leadership_sees_revisions_counted_not_the_revised_records(quality_db, monkeypatch):
    """Issue 19: a revised request's dates, outcome and age are record-level, for analysts only."""
    at = _page_as("leadership", quality_db, monkeypatch)
    frames = [df.value for df in at.dataframe]
    assert not any("Previous values" in f.columns or "Record" in f.columns for f in frames)
    counts = next(f for f in frames if "Changed" in f.columns)
    assert list(counts.columns) == ["Module", "Changed", "Records"]
    assert counts.set_index("Module").loc["requests", "Records"] == "c"  # one revised request: a small count
    shown = "\n".join(f.to_csv() for f in frames)
    assert "2023-02-10" not in shown and 'request_outcome":' not in shown
    # the revised record's id (900) as a value of its own, not digits inside a load's timestamp
    assert not re.search(r"(?<![\d.:])900(?!\d)", shown)
