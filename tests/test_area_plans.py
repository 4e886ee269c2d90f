"""Plans per area (kpi/area_plans.py): validation of plans/*.yaml, each area judged against its own plan in force
(successive plans), no status without a plan, the portfolio's rows and a monitor's assigned areas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi import area_plans, definitions
from kpi.access import roles
from kpi.cli_portfolio import scoped_areas
from kpi.engine.series import add_area_plans
from kpi.views.palette import SERIES
from kpi.views.portfolio import off_track_list, portfolio, small_multiples

HOME, LUTON, ESSEX, THURROCK = "E06000056", "E06000032", "E10000012", "E06000034"
KPI = "ehcna_open_over_20wk"  # a month-end count, judged on the month (lower is better)


@pytest.fixture(scope="module")
def catalogue():
    return definitions.load()


def _plan(base: str, target: str, start_value: float, end_value: float, basis: str = "month") -> str:
    return (f"{KPI}: {{baseline: {{value: {start_value}, period: '{base}'}}, target: {{value: {end_value}, "
            f"period: '{target}', source: 'Local'}}, tolerance: 5, basis: {basis}}}")


def _write(directory: Path, name: str, area: str, plans: list[tuple[str, str, str, str]]) -> Path:
    body = "".join(f"  - name: {n}\n    start: '{s}'\n    end: '{e}'\n    kpis:\n      {k}\n" for n, s, e, k in plans)
    path = directory / f"{name}.yaml"
    path.write_text(f"area: {area}\ndemo: true\nplans:\n{body}", encoding="utf-8")
    return path


def _successive(tmp_path: Path) -> Path:
    return _write(tmp_path, LUTON, LUTON, [
        ("APP", "2023-02", "2023-07", _plan("2023-01", "2023-07", 100, 40)),
        ("Improvement plan", "2023-08", "2024-01", _plan("2023-07", "2024-01", 40, 10)),
    ])


def test_the_shipped_demo_plans_are_valid_and_mark_themselves_demo(catalogue):
    assert area_plans.check(catalogue, HOME, area_plans.plan_files()) == []
    book = area_plans.load(catalogue, HOME)
    demo_areas = [a for a in book.areas if a != HOME]
    assert len(demo_areas) >= 3
    assert all(p.demo for a in demo_areas for p in book.plans(a))
    windows = {(p.start, p.end) for a in demo_areas for p in book.plans(a)}
    assert len(windows) >= 3  # different windows
    assert len(book.plans(LUTON)) == 2  # an APP, then an improvement plan


@pytest.mark.parametrize(("area", "plans", "expected"), [
    (LUTON, [("P", "2023-02", "2024-01", _plan("2023-01", "2024-01", 50, 40).replace(KPI, "no_such_kpi"))],
     "E06000032.yaml: plans[0] (P): kpis.no_such_kpi: unknown KPI id"),
    ("E06999999", [("P", "2023-02", "2024-01", _plan("2023-01", "2024-01", 50, 40))],
     "E06999999.yaml: area: E06999999 is not an English local authority"),
    (LUTON, [("A", "2023-02", "2024-01", _plan("2023-01", "2024-01", 50, 40)),
             ("B", "2023-12", "2024-11", _plan("2023-11", "2024-11", 50, 40))],
     "E06000032.yaml: plans[1] (B): window 2023-12–2024-11 overlaps E06000032.yaml: plans[0] (A)"),
    (LUTON, [("P", "2023-02", "2024-01", _plan("2023-01", "2024-01", 50, 40, basis="rolling_12m"))],
     f"E06000032.yaml: plans[0] (P): kpis.{KPI}: a month-end count has no rolling 12-month figure"),
    (LUTON, [("P", "2023-02", "2024-01", _plan("2023-01", "2024-01", 50, 40).replace("month", "quarter"))],
     "E06000032.yaml: plans.0.kpis.ehcna_open_over_20wk.basis"),
    (HOME, [("Next", "2023-06", "2024-05", _plan("2023-05", "2024-05", 50, 40))],
     "overlaps kpi_definitions.yaml"),
])
def test_validation_names_the_file_and_the_field(tmp_path, catalogue, area, plans, expected):
    path = _write(tmp_path, area, area, plans)
    problems = area_plans.check(catalogue, HOME, [path])
    assert any(expected in p for p in problems), problems
    with pytest.raises(area_plans.AreaPlansError):
        area_plans.load(catalogue, HOME, tmp_path)


def test_validation_names_the_line_of_each_problem(tmp_path, catalogue):
    """Lines counted in the file _write makes: 1 area, 3 plans, 4 the first plan's name, 5 start, 6 end, 7 kpis,
    8 its KPI; the second plan from line 9 (its start on 10, its KPI on 13)."""
    path = _write(tmp_path, LUTON, LUTON, [
        ("A", "2023-02", "2024-01", _plan("2023-01", "2024-01", 50, 40).replace(KPI, "no_such_kpi")),
        ("B", "2023-12", "2024-11", _plan("2023-11", "2024-11", 50, 40, basis="rolling_12m"))])
    assert path.read_text(encoding="utf-8").splitlines()[7].strip().startswith("no_such_kpi:")
    problems = area_plans.check(catalogue, HOME, [path])
    assert "E06000032.yaml: plans[0] (A): kpis.no_such_kpi: unknown KPI id (not in kpi_definitions.yaml) (line 8)" \
        in problems
    assert any(p.startswith("E06000032.yaml: plans[1] (B): kpis.ehcna_open_over_20wk: a month-end count") and
               p.endswith("(line 13)") for p in problems), problems
    assert any("plans[1] (B): window 2023-12–2024-11 overlaps" in p and p.endswith("(line 10)") for p in problems)
    shape = _write(tmp_path, ESSEX, ESSEX, [("P", "2023-02", "2024-01", _plan("2023-01", "2024-01", 50, 40))])
    shape.write_text(shape.read_text(encoding="utf-8").replace("tolerance: 5", "tolerance: -5"), encoding="utf-8")
    assert any("E10000012.yaml" in p and f"plans.0.kpis.{KPI}.tolerance (line 8)" in p
               for p in area_plans.check(catalogue, HOME, [shape]))


def test_a_plan_for_an_area_that_is_not_an_english_la_is_refused_at_its_line(tmp_path, catalogue):
    """E12000006 is the East of England: a region, not a local authority."""
    path = _write(tmp_path, "E12000006", "E12000006", [("P", "2023-02", "2024-01", _plan("2023-01", "2024-01", 50,
                                                                                          40))])
    problems = area_plans.check(catalogue, HOME, [path])
    assert ("E12000006.yaml: area: E12000006 is not an English local authority (etl/reference) (line 1)"
            in problems), problems
    with pytest.raises(area_plans.AreaPlansError, match="E12000006 is not an English local authority"):
        area_plans.load(catalogue, HOME, tmp_path)


def test_access_yaml_area_codes_must_be_english_las(tmp_path, catalogue, monkeypatch, capsys):
    from kpi.__main__ import main as kpi_main

    access = tmp_path / "access.yaml"
    access.write_text("roles:\n  pages: {monitor: [portfolio], leadership: [], analyst: all}\n  areas:\n"
                      f"    monitor:\n      - {LUTON}\n      - E06999999\n", encoding="utf-8")
    with pytest.raises(roles.AccessConfigError) as refused:
        roles.load(access, catalogue)
    assert str(refused.value) == (f"{access} line 6: roles.areas.monitor: E06999999 is not an English local "
                                  "authority's ONS code (etl/reference)")
    monkeypatch.setenv(roles.ENV_VAR, str(access))
    assert kpi_main(["validate"]) != 0
    err = capsys.readouterr().err
    assert "access.yaml line 6" in err and "E06999999" in err
    access.write_text(access.read_text(encoding="utf-8").replace("E06999999", ESSEX), encoding="utf-8")
    assert roles.load(access, catalogue).roles.areas["monitor"] == [LUTON, ESSEX]


def test_an_area_plans_benchmark_target_is_checked_against_dfe(tmp_path, catalogue, published_db, monkeypatch,
                                                                 capsys):
    """An area plan whose target cites England's 2022 figure (DfE published 49.2%) but states another number fails
    `kpi validate --db`, naming the file and the plan; stating DfE's number raises nothing about it."""
    from kpi.__main__ import main as kpi_main

    def target(value: float) -> str:
        return ("ehcp_20wk_excl: {baseline: {value: 30.0, period: '2023-01'}, target: {value: " + str(value) +
                ", period: '2024-01', source: 'England 2022', benchmark: {of: england, year: 2022}}, tolerance: 5, "
                "basis: rolling_12m}")

    _write(tmp_path, LUTON, LUTON, [("Luton APP", "2023-02", "2024-01", target(60.0))])
    monkeypatch.setenv("APP_PLANS_DIR", str(tmp_path))
    assert kpi_main(["validate", "--db", str(published_db)]) != 0
    err = capsys.readouterr().err
    assert f"{LUTON}.yaml, plan 'Luton APP': kpi ehcp_20wk_excl: plan target 60 but DfE's England average for 2022 " \
           "is 49.2" in err, err
    _write(tmp_path, LUTON, LUTON, [("Luton APP", "2023-02", "2024-01", target(49.2))])
    kpi_main(["validate", "--db", str(published_db)])  # fails on the case tables this database does not hold
    err = capsys.readouterr().err
    assert "database check failed" in err and "Luton APP" not in err and "plan target" not in err, err


def test_a_file_named_for_another_area_is_refused(tmp_path, catalogue):
    path = _write(tmp_path, ESSEX, LUTON, [("P", "2023-02", "2024-01", _plan("2023-01", "2024-01", 50, 40))])
    assert any("E10000012.yaml: area: E06000032 is not the file's name" in p
               for p in area_plans.check(catalogue, HOME, [path]))


def _series(areas: list[str], periods: list[str], value: float = 60.0) -> pd.DataFrame:
    rows = [{"area_code": a, "kpi_id": KPI, "period": p, "numerator": value, "denominator": None, "value": value,
             "rolling_12m": None, "complete": True} for a in areas for p in periods]
    return pd.DataFrame(rows)


MONTHS = [f"2023-{m:02d}" for m in range(1, 13)]


def test_each_month_is_judged_against_the_plan_in_force(tmp_path, catalogue):
    _successive(tmp_path)
    book = area_plans.load(catalogue, HOME, tmp_path)
    judged = add_area_plans(_series([LUTON], MONTHS), catalogue.get(KPI), book).set_index("period")
    assert book.in_force(LUTON, "2023-07").name == "APP" and book.in_force(LUTON, "2023-08").name == "Improvement plan"
    assert judged.loc["2023-04", "trajectory"] == pytest.approx(70)  # APP: 100 → 40 over Jan–Jul
    assert judged.loc["2023-07", "target"] == 40 and judged.loc["2023-07", "status"] == "off_track"  # 60 vs 40
    assert judged.loc["2023-10", "trajectory"] == pytest.approx(25)  # improvement plan: 40 → 10 over Jul–Jan
    assert judged.loc["2023-10", "target"] == 10 and judged.loc["2023-10", "status"] == "off_track"
    assert judged.loc["2023-03", "status"] == "on_track"  # 60 against a trajectory of 80: lower is better
    assert pd.isna(judged.loc["2023-01", "status"])  # the APP's baseline month: not judged


def test_an_area_without_a_plan_has_figures_but_no_status_and_the_home_area_keeps_its_own(tmp_path, catalogue):
    _successive(tmp_path)
    book = area_plans.load(catalogue, HOME, tmp_path)
    judged = add_area_plans(_series([THURROCK, HOME], MONTHS), catalogue.get(KPI), book)
    thurrock = judged[judged["area_code"] == THURROCK]
    assert thurrock["value"].eq(60).all() and thurrock["status"].isna().all() and thurrock["trajectory"].isna().all()
    home = judged[judged["area_code"] == HOME].set_index("period")
    assert home.loc["2023-12", "target"] == catalogue.get(KPI).plan.target.value
    assert home["status"].notna().any()  # kpi_definitions.yaml's plan judges the home area
    assert book.catalogue_for(HOME, "2023-06") is catalogue
    assert all(k.plan is None for k in book.catalogue_for(THURROCK, "2023-06").kpis)
    luton = book.catalogue_for(LUTON, "2023-09")
    assert luton.plan_window.name == "Improvement plan" and luton.get(KPI).plan.target.value == 10
    assert luton.get("ehcp_20wk_excl").plan is None  # not in that plan


def test_the_trajectory_chart_of_an_area_without_a_plan_draws_no_window_and_no_trajectory(tmp_path, catalogue):
    from kpi.views.charts import trajectory_figure

    _successive(tmp_path)
    book = area_plans.load(catalogue, HOME, tmp_path)

    def drawn(area: str, window):
        rows = add_area_plans(_series([area], MONTHS).assign(median=None), catalogue.get(KPI), book)
        fig = trajectory_figure(rows, book.catalogue_for(area, "2023-09").get(KPI), window, "2023-09")
        return ({t.name for t in fig.data}, {s.name for s in fig.layout.shapes},
                {a.text for a in fig.layout.annotations})

    traces, shapes, notes = drawn(LUTON, book.catalogue_for(LUTON, "2023-09").plan_window)
    assert "Trajectory (plan)" in traces and "plan window" in shapes and "APP monitoring window" in notes
    traces, shapes, notes = drawn(THURROCK, None)
    assert "Trajectory (plan)" not in traces and not any("Target" in (t or "") for t in traces)
    assert "plan window" not in shapes and "APP monitoring window" not in notes
    assert "Actual (monthly)" in traces and "selected period" in shapes  # the figures and the month, still


def test_portfolio_rows_count_statuses_under_the_plan_in_force(tmp_path, catalogue):
    _successive(tmp_path)
    book = area_plans.load(catalogue, None, tmp_path)
    series = add_area_plans(_series([LUTON, THURROCK], MONTHS), catalogue.get(KPI), book)
    rows = portfolio(series, book, "2023-10", {LUTON: "Luton"}, {LUTON: "2024-01-01"}, [LUTON, THURROCK])
    assert list(rows["area_code"]) == [LUTON]  # only areas with a plan
    row = rows.iloc[0]
    assert (row["plan"], row["plan_month"], row["off_track"], row["on_track"]) == ("Improvement plan", "3 of 6", 1, 0)
    assert row["off_track_kpis"] == KPI and row["as_at"] == "2024-01-01" and bool(row["demo"])
    assert row["off_track_names"] == "Open assessments over 20 weeks"  # people read names, machines the ids
    assert off_track_list(rows, "2023-10") == ("Off track in October 2023:\n\n"
                                               "- **Luton** (1): Open assessments over 20 weeks")
    assert row["freshness"] == "Up to date"  # data as at January 2024 cover October 2023
    empty = portfolio(series[series["period"] != "2023-10"], book, "2023-10", {}, {}, [LUTON])
    assert empty.iloc[0]["no_data"] == 1 and empty.iloc[0]["off_track"] == 0
    assert empty.iloc[0]["off_track_names"] == "" and off_track_list(empty, "2023-10") == ""  # nothing to list
    assert empty.iloc[0]["freshness"] == "No as-at date"
    behind = portfolio(series, book, "2023-10", {}, {LUTON: "2023-08-31"}, [LUTON])
    assert behind.iloc[0]["freshness"] == "Stale: 2 months behind the chosen month"


def test_small_multiples_draw_each_area_against_its_own_plan_in_the_plan_colour(tmp_path, catalogue):
    _successive(tmp_path)
    book = area_plans.load(catalogue, None, tmp_path)
    series = add_area_plans(_series([LUTON, THURROCK], MONTHS), catalogue.get(KPI), book)
    fig = small_multiples(series, book, KPI, "2023-10", {LUTON: "Luton", THURROCK: "Thurrock"}, [LUTON, THURROCK])
    traces = {t.name: t for t in fig.data}
    assert traces["Trajectory (plan)"].line.color == SERIES["plan"]  # one colour, one meaning: the plan's
    assert traces["Actual (the figure judged)"].line.color == SERIES["area"]  # a month-end count: the month itself
    assert [a.text for a in fig.layout.annotations][:2] == ["Luton", "Thurrock"]
    assert any("no plan" in a.text.lower() for a in fig.layout.annotations)  # Thurrock: a panel saying so


def test_a_monitor_sees_only_the_assigned_areas(tmp_path, monkeypatch, capsys):
    config = roles.RolesConfig(pages={"monitor": ["portfolio"], "leadership": [], "analyst": "all"},
                               areas={"monitor": [LUTON, ESSEX]}, area_claim="app_areas")
    assert roles.allowed_areas("monitor", config) == {LUTON, ESSEX}
    assert roles.allowed_areas("monitor", config, {"app_areas": [ESSEX, THURROCK]}) == {ESSEX}
    assert roles.allowed_areas("analyst", config) is None
    access = tmp_path / "access.yaml"
    access.write_text(f"roles:\n  pages: {{monitor: [portfolio], leadership: [], analyst: all}}\n"
                      f"  areas: {{monitor: [{LUTON}, {ESSEX}]}}\n", encoding="utf-8")
    monkeypatch.setenv(roles.ENV_VAR, str(access))
    loaded = [HOME, LUTON, ESSEX, THURROCK]
    assert scoped_areas("monitor", None, loaded) == [LUTON, ESSEX]
    assert scoped_areas("analyst", None, loaded) is None
    assert scoped_areas("monitor", [THURROCK], loaded) == 2  # the CLI's exit code for bad input
    assert "E06000034 are not assigned to the monitor role" in capsys.readouterr().err
