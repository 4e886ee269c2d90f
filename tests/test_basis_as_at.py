"""Numbers a monitor can defend: each plan judged on its basis (month or rolling 12 months), and an extract's
as-at date (series run to it; a partial month has no status and no month-end count)."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest
import yaml

from kpi import definitions
from kpi.engine.series import kpi_series, open_readonly
from kpi.engine.trajectory import plan_phase
from kpi.views.charts import basis_text
from tests.support.blade import Blade, blade_date


def _plan_problems(kpi_id: str, **plan) -> list[str]:
    raw = yaml.safe_load(definitions.DEFAULT_PATH.read_text())
    for k in raw["kpis"]:
        if k.get("id") == kpi_id:  # the waiting-list block has no id of its own
            k["plan"].update(plan)
    return definitions.check_references(definitions.Catalogue.model_validate(raw))


def test_validate_refuses_a_calendar_year_figure_judged_monthly():
    problems = _plan_problems("ehcp_20wk_excl", basis="month")
    assert any("ehcp_20wk_excl" in p and "basis: rolling_12m" in p for p in problems)
    assert _plan_problems("ehcp_20wk_excl", basis="rolling_12m") == []


def test_validate_refuses_a_rolling_basis_for_a_month_end_count():
    problems = _plan_problems("ar_overdue", basis="rolling_12m")
    assert any("ar_overdue" in p and "month-end count" in p for p in problems)


def test_the_demo_plans_use_the_basis_of_their_numbers(catalogue):
    rolling = {k.id for k in catalogue.kpis if k.plan and k.plan.basis == "rolling_12m"}
    assert {"ehcp_20wk_excl", "ehcp_20wk_incl", "request_decision_6wk", "not_issue_16wk", "ar_decision_4wk"} <= rolling
    assert all(not catalogue.get(k).is_snapshot for k in rolling)
    assert catalogue.get("ehcna_open_over_20wk").plan.basis == "month"


def test_the_plan_says_what_it_judges_and_calls_december_a_calendar_year_only_when_it_is_one(catalogue):
    """A plan on DfE's calendar-year figures judges the rolling 12 months, December's being the year's; a local
    plan whose baseline is the 12 months to September judges the rolling 12 months too, with no calendar year."""
    kpi = catalogue.get("ehcp_20wk_excl")
    assert kpi.plan.cites_calendar_year()
    assert basis_text(kpi) == ("the rolling 12 months to each month, the basis its baseline and target are on "
                               "(calendar-year figures: December's is the calendar year's)")
    local = kpi.plan.model_copy(update={
        "baseline": kpi.plan.baseline.model_copy(update={"note": "Twelve months to September 2023 (local data)"}),
        "target": kpi.plan.target.model_copy(update={"source": "Local", "note": None, "benchmark": None})})
    text = basis_text(kpi.model_copy(update={"plan": local}))
    assert text == "the rolling 12 months to each month, the basis its baseline and target are on"
    assert basis_text(catalogue.get("ehcna_open_over_20wk")) == "each month's own figure"


def _late_year_then_good_month(late_per_month: int = 2) -> Blade:
    """Plans issued late (200 days) every month of 2022 and January 2023, then two on time in February 2023."""
    b = Blade()
    for m in range(1, 14):
        year, month = (2022, m) if m <= 12 else (2023, 1)
        for day in range(1, late_per_month + 1):
            issued = f"{year}-{month:02d}-{10 + day:02d}"
            received = (date.fromisoformat(issued) - timedelta(days=200)).isoformat()
            b.issued_plan(received, issued)
    b.issued_plan("2022-12-01", "2023-02-10")  # 71 days
    b.issued_plan("2022-12-05", "2023-02-20")  # 77 days
    return b


def test_a_rate_with_a_calendar_year_baseline_is_judged_on_the_rolling_12_months(series_of):
    s = series_of(_late_year_then_good_month(), "ehcp_20wk_excl")
    feb = s.loc["2023-02"]
    assert feb["value"] == 100.0  # the month alone would be on track …
    assert feb["rolling_12m"] == pytest.approx(100 * 2 / 24)  # … the 12 months to February are 8.3%
    assert feb["basis"] == "rolling_12m"
    assert feb["trajectory"] == pytest.approx(12 + (20 - 12) / 3)  # 14.7: shortfall 6.3 > tolerance 5
    assert feb["status"] == "off_track"


def test_a_status_on_too_few_events_says_so(series_of):
    b = _late_year_then_good_month(late_per_month=0)
    b.request(b.person(), "2022-01-05", "N", "2022-02-01")  # the extract covers 2022 too
    s = series_of(b, "ehcp_20wk_excl")
    feb = s.loc["2023-02"]
    assert feb["rolling_12m"] == 100.0  # two plans in 12 months: fewer than the minimum of 10
    assert feb["status"] == "too_few"


def test_the_baseline_month_has_a_trajectory_but_no_status(series_of):
    s = series_of(_late_year_then_good_month(), "ehcp_20wk_excl")
    assert s.loc["2023-01", "trajectory"] == 12.0
    assert s.loc["2023-01", "status"] is None
    assert s.loc["2022-12", "trajectory"] != s.loc["2022-12", "trajectory"]  # NaN: before the plan


def test_after_the_plan_window_figures_are_set_against_the_final_target(series_of, catalogue):
    s = series_of(_late_year_then_good_month(), "ehcp_20wk_excl")
    plan = catalogue.get("ehcp_20wk_excl").plan
    assert plan_phase(plan, "2024-06") == "after" and plan_phase(plan, "2024-01") == "in_plan"
    assert plan_phase(plan, "2023-01") == "baseline" and plan_phase(plan, "2022-12") == "before"
    assert s.loc["2024-06", "trajectory"] == s.loc["2024-06", "target"] == 49.2
    assert s.loc["2024-06", "status"] in {"off_track", "no_data", "too_few"}


# --- as-at ------------------------------------------------------------------------------------------------

def _dated(as_at: str) -> Blade:
    b = Blade()
    b.rows["sen2"][0]["referencedate"] = blade_date(as_at)
    return b


def test_series_run_to_the_as_at_date_through_months_with_no_events(series_of):
    b = _dated("2023-12-31")
    b.issued_plan("2022-11-01", "2023-01-31")
    s = series_of(b, "ehcp_20wk_incl")
    assert s.index.max() == "2023-12"  # the extract's date, not the last event (January)
    assert (s.loc["2023-02":"2023-12", "denominator"] == 0).all()  # zero events, not missing months
    assert s.loc["2023-12", "complete"]


def test_a_partial_month_is_incomplete_without_status_or_month_end_count(series_of):
    b = _dated("2024-03-10")
    p = b.person()
    r = b.request(p, "2023-10-25", "Y", "2023-11-20")  # day 141 is 14 March 2024: after the as-at date
    b.issued_plan("2023-01-02", "2023-03-01")
    backlog = series_of(b, "ehcna_open_over_20wk")
    assert backlog.index.max() == "2024-03"
    march, feb = backlog.loc["2024-03"], backlog.loc["2024-02"]
    assert not march["complete"] and feb["complete"]
    assert march["value"] != march["value"]  # NaN: the March month end does not exist yet
    assert feb["value"] == 0  # on 29 February the request was at day 127
    assert march["status"] is None
    assert r


def test_an_event_after_the_as_at_date_is_not_counted(series_of):
    b = _dated("2024-03-10")
    b.issued_plan("2023-10-01", "2024-03-05")
    b.issued_plan("2023-10-02", "2024-03-20")  # dated after the extract: not known at its date
    s = series_of(b, "ehcp_20wk_incl")
    assert s.loc["2024-03", "denominator"] == 1 and not s.loc["2024-03", "complete"]


def test_load_log_records_where_the_as_at_date_came_from(build_db):
    b = _dated("2024-03-10")
    b.issued_plan("2023-10-01", "2024-03-05")
    db = build_db(b)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = set(con.execute("SELECT as_at, as_at_source FROM load_log WHERE module = 'requests'").fetchall())
    assert {(str(d), src) for d, src in rows} == {("2024-03-10", "sen2 header")}

    undated = Blade()
    undated.rows["sen2"][0]["referencedate"] = ""
    undated.issued_plan("2023-10-01", "2024-03-05")
    db = build_db(undated)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = set(con.execute("SELECT as_at, as_at_source FROM load_log WHERE module = 'requests'").fetchall())
    assert {(str(d), src) for d, src in rows} == {("2025-01-01", "file name")}  # Blade-Export_01-01-2025_…


def test_the_sen2_header_datetime_comes_before_its_census_date(build_db, catalogue):
    b = _dated("2024-01-18")
    b.rows["sen2"][0]["datetime"] = blade_date("2024-03-10")
    b.issued_plan("2023-10-01", "2024-03-05")
    con = open_readonly(build_db(b))
    try:
        s = kpi_series(con, catalogue, ["ehcp_20wk_incl"]).set_index("period")
    finally:
        con.close()
    assert s.index.max() == "2024-03" and not s.loc["2024-03", "complete"]


# --- history from successive extracts ---------------------------------------------------------------------

def _review_extract(as_at: str, meeting: str, decision: str) -> Blade:
    """One plan started 2019-01-15; the extract shows only its latest review, as SEN2 does."""
    b = _dated(as_at)
    p = b.person(pid=500)
    r = b.request(p, "2018-09-01", "Y", "2018-10-01", rid=501)
    a = b.assessment(r, "Y", "2019-01-15", aid=502)
    b.plan(a, "2019-01-15")
    b.review(r, meeting, decision)
    return b


def _load_in_order(tmp_path, extracts) -> duckdb.DuckDBPyConnection:
    from etl.load import load_paths

    db = tmp_path / "history.duckdb"
    for n, b in enumerate(extracts):
        load_paths([b.write(tmp_path / f"x{n}")], db)
    return open_readonly(db)


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_a_later_extract_adds_a_review_it_never_erases_an_earlier_one(tmp_path, catalogue, order):
    extracts = [_review_extract("2022-02-01", "2021-01-05", "2021-01-20"),
                _review_extract("2024-12-01", "2024-11-15", "2024-11-29")]
    con = _load_in_order(tmp_path, [extracts[i] for i in order])
    try:
        s = kpi_series(con, catalogue, ["ar_overdue", "ar_decision_4wk"]).set_index(["kpi_id", "period"])
    finally:
        con.close()
    overdue = s.loc["ar_overdue", "value"]
    assert overdue["2020-06"] == 1  # 12 months after the start, no meeting yet
    assert overdue["2021-06"] == 0  # the 2021 meeting, shown only by the older extract, still counts
    assert overdue["2023-06"] == 1 and overdue["2024-11"] == 0
    decisions = s.loc["ar_decision_4wk", "denominator"]
    assert decisions["2021-01"] == 1 and decisions["2024-11"] == 1  # both decisions, whatever the load order


def test_as_of_gives_the_figures_as_they_stood_with_the_extracts_of_that_day(tmp_path, catalogue):
    con = _load_in_order(tmp_path, [_review_extract("2022-02-01", "2021-01-05", "2021-01-20"),
                                    _review_extract("2024-12-01", "2024-11-15", "2024-11-29")])
    try:
        then = kpi_series(con, catalogue, ["ar_overdue"], as_of=date(2022, 3, 1)).set_index("period")
        now = kpi_series(con, catalogue, ["ar_overdue"]).set_index("period")
    finally:
        con.close()
    assert then.index.max() == "2022-02" and not then.loc["2022-02", "complete"]  # the older extract's date
    assert then.loc["2022-01", "value"] == 1 and now.loc["2022-01", "value"] == 1
    assert now.index.max() == "2024-12"


def test_cli_series_as_of(tmp_path, capsys):
    from kpi.__main__ import main as kpi_main

    _load_in_order(tmp_path, [_review_extract("2022-02-01", "2021-01-05", "2021-01-20"),
                              _review_extract("2024-12-01", "2024-11-15", "2024-11-29")]).close()
    db = str(tmp_path / "history.duckdb")
    assert kpi_main(["series", "--db", db, "--kpi", "ar_overdue", "--as-of", "2022-03-01"]) == 0
    periods = [line.split(",")[2] for line in capsys.readouterr().out.splitlines()[1:]]
    assert max(periods) == "2022-02"
    with pytest.raises(SystemExit) as exit_:
        kpi_main(["series", "--db", db, "--as-of", "March 2022"])
    assert exit_.value.code == 2 and "is not a day written YYYY-MM-DD" in capsys.readouterr().err


def test_the_board_says_why_a_planned_month_has_no_status(series_of, catalogue):
    from kpi.engine.series import scorecard
    from kpi.views.charts import status_summary, status_text

    b = _dated("2023-03-10")
    b.issued_plan("2022-01-03", "2022-02-01")
    s = series_of(b, "ehcp_20wk_excl").reset_index()
    baseline = scorecard(s, catalogue, "2023-01").set_index("kpi_id").loc["ehcp_20wk_excl"]
    partial = scorecard(s, catalogue, "2023-03").set_index("kpi_id").loc["ehcp_20wk_excl"]
    assert baseline["status"] is None and baseline["unjudged"] == "baseline"
    assert partial["status"] is None and partial["unjudged"] == "partial"
    assert status_text("partial") == "◔ Partial month (not judged)"
    assert status_summary(["partial"], "2023-03") == ("0 on track · 0 within tolerance · 0 off track · 1 in a partial "
                                                      "month (not judged) in March 2023")


@pytest.mark.slow  # the app under AppTest
def test_the_dashboard_shows_the_figures_as_they_stood_on_a_past_day(tmp_path, monkeypatch):
    from tests.support.app import run_app, text_of

    _load_in_order(tmp_path, [_review_extract("2022-02-01", "2021-01-05", "2021-01-20"),
                              _review_extract("2024-12-01", "2024-11-15", "2024-11-29")]).close()
    monkeypatch.setenv("APP_DB", str(tmp_path / "history.duckdb"))
    monkeypatch.delenv("APP_ROLE", raising=False)
    now = run_app()
    assert "data as at **1 December 2024**" in text_of(now) and now.sidebar.selectbox(key="period").value == "2024-11"
    then = run_app({"as_of": "2022-03-01"})
    text = text_of(then)
    assert "data as at **1 February 2022**" in text and "as it stood on 1 March 2022**" in text
    assert then.sidebar.selectbox(key="period").value == "2022-01"  # February 2022 is partial in that extract
    bad = run_app({"as_of": "March 2022"})
    assert any("is not a day written YYYY-MM-DD" in i.value for i in bad.info)
    assert "data as at **1 December 2024**" in text_of(bad)
