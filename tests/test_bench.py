"""The benchmark suite: its JSON at three tiny sizes, and the pandas reference agreeing with the KPI engine exactly.

Never timed: nothing here asserts on speed, only that the figures exist, are positive and that the reference and
the engine give the same numerator, denominator and median for every KPI, area and month.
"""

from __future__ import annotations

import json
import math
import re

import pandas as pd
import pytest

from bench import __main__ as cli
from bench.pandas_reference import disagreements, fetch_tables, reference_all
from bench.suite import (
    PAIR,
    ReferenceMismatch,
    Size,
    check_agreement,
    generate_pair,
    pages_of_app,
    write_demo_plans,
)
from etl.load import load_areas
from kpi import area_plans
from kpi.engine.series import kpi_series, open_readonly
from tests.support.app import plan_extract
from tests.support.blade import Blade

PER_SIZE_KEYS = ["months", "areas", "rows", "requests", "etl_rows_per_s", "raw_duckdb_rows_per_s", "etl_ratio",
                 "kpi_engine_s", "pandas_reference_s", "kpi_speedup", "page_render_s", "peak_rss_mb"]


def _engine_and_reference(db, catalogue) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every KPI of the catalogue, from the engine and from the reference."""
    con = open_readonly(db)
    try:
        return kpi_series(con, catalogue), reference_all(fetch_tables(con), catalogue)
    finally:
        con.close()


def edge_cases() -> Blade:
    """Records on every boundary the statutory definitions draw, for the reference to match the engine on."""
    b = Blade()
    b.request(b.person(), "2018-06-01", "H", None)  # historical: before the flow window, and still open
    b.issued_plan("2022-01-03", "2022-05-23")  # day 140: within 20 weeks
    b.issued_plan("2022-01-03", "2022-05-24")  # day 141: late
    b.issued_plan("2022-01-03", "2022-05-10", week20=1)  # exception: only in the "including" KPI
    r = b.request(b.person(), "2022-01-03", "Y", "2022-02-14")  # decision on day 42
    b.assessment(r, "N", "2022-04-25")  # not to issue on day 112
    r = b.request(b.person(), "2022-01-03", "Y", "2022-02-15")  # day 43
    b.assessment(r, "N", "2022-04-26")  # day 113
    b.request(b.person(), "2022-02-01", "W", "2022-03-01")  # withdrawn: no decision counted
    b.request(b.person(), "2022-02-01", "A", None)  # pending
    r = b.request(b.person(), "2022-01-10", "Y", "2022-02-01")  # open over 20 weeks, assessment pending
    b.assessment(r, "A", None)
    r = b.request(b.person(), "2022-01-10", "Y", "2022-02-01")  # open until withdrawn
    b.assessment(r, "W", "2022-09-12")
    r = b.request(b.person(), "2022-01-10", "Y", "2022-08-20")  # decided to assess after day 141
    r_leap = b.issued_plan("2019-10-01", "2020-02-29")  # plan starting 29 February: due 28 February 2021
    b.review(r_leap, "2021-04-10", "2021-05-08", "M")  # decision on day 28
    b.review(r_leap, "2022-03-01", "2022-03-30", "M")  # day 29, and a second anchor
    b.review(r_leap, "2020-01-01", None)  # before the plan started: not an anchor
    r = b.issued_plan("2021-06-01", "2021-09-30")
    b.review(r, "2022-09-01", None)  # decision outstanding
    p = b.person()
    r = b.request(p, "2021-01-04", "Y", "2021-02-01")
    b.plan(b.assessment(r, "Y", "2021-05-03"), "2021-05-03", cease="2022-07-15", reason="2")  # ceased
    b.issued_plan("2022-03-01", "2022-06-01", decided="2022-04-01")
    b.phase_transfer(r, "2022-02-15", "2022-02-15")  # finalised on the due date
    b.phase_transfer(r_leap, "2022-03-31", None)  # post-16, never finalised: not met
    b.phase_transfer(r_leap, "2023-06-15", None)  # due after the extract's last event: not counted yet
    r = b.request(b.person(), "2021-03-01", "Y", "2021-03-29")
    b.assessment(r, "N", "2021-06-14", week20="")  # blank week20: only in the "including" 16-week KPI
    r = b.request(b.person(), "2021-03-01", "Y", "2021-03-29")
    b.assessment(r, "N", "2021-06-14", week20=1)
    r = b.request(b.person(), "2021-03-01", "Y", "2021-03-29")
    b.assessment(r, "N", "2021-06-21", week20=0)  # day 112
    r = b.issued_plan("2021-03-01", "2021-07-12", week20="")  # blank week20 on an issued plan (day 133)
    b.assessment(r, "Y", "2021-08-02")  # a second issued assessment on the same request
    r = b.request(b.person(), "2021-03-01", "H", None)  # historical, open from day 141 until withdrawn
    b.assessment(r, "W", "2021-12-01")
    b.request(b.person(), "2023-03-02", "A", None)  # runs the months on, with empty months before it
    return b


@pytest.mark.parametrize("extract", [edge_cases, plan_extract])
def test_pandas_reference_gives_the_engines_numbers_on_hand_built_records(extract, build_db, catalogue):
    engine, ref = _engine_and_reference(build_db(extract()), catalogue)
    assert disagreements(engine, ref) == []
    assert len(ref) == len(engine) and set(ref["kpi_id"]) == set(catalogue.ids)


@pytest.fixture(scope="module")
def pair_db(tmp_path_factory):
    """Two small generated areas (every source: SEN2, local extracts, referrals) sharing record ids, in one load."""
    root = tmp_path_factory.mktemp("pair")
    areas = generate_pair(root / "extract", seed=7, start="2022-01", months=24)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("APP_PSEUDONYM_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
        load_areas([(code, [folder]) for code, folder in areas], root / "pair.duckdb")
    return root / "pair.duckdb"


@pytest.mark.slow  # the module's two-area (or three-size bench) set-up takes about a minute
def test_reference_agrees_with_the_engine_on_every_kpi_in_two_areas(pair_db, catalogue):
    engine, ref = _engine_and_reference(pair_db, catalogue)
    assert disagreements(engine, ref) == []
    assert len(ref) == len(engine)
    codes = [code for code, _, _ in PAIR]
    assert sorted(ref["area_code"].unique()) == sorted(codes)
    for code in codes:  # every KPI has values in each area, so the agreement is not between two empty series
        mine = ref[ref["area_code"] == code]
        assert set(mine["kpi_id"]) == set(catalogue.ids)
        counted = mine.groupby("kpi_id")[["numerator", "denominator", "median"]].count().sum(axis=1)
        assert (counted > 0).all(), list(counted[counted == 0].index)


@pytest.mark.slow  # the module's two-area (or three-size bench) set-up takes about a minute
def test_disagreements_key_on_the_area(pair_db, catalogue):
    engine, ref = _engine_and_reference(pair_db, catalogue)
    other, home = sorted(ref["area_code"].unique())[:2]
    swapped = ref.copy()
    swapped["area_code"] = swapped["area_code"].map({other: home, home: other})
    assert disagreements(engine, swapped)  # the same KPI-months but the other area's numbers


def test_reference_on_the_edge_cases_matches_hand_counts(build_db, catalogue):
    """The reference is right in its own terms too, not just equal to the engine."""
    _, ref = _engine_and_reference(build_db(edge_cases()), catalogue)
    at = ref.drop(columns="area_code").set_index(["kpi_id", "period"])
    assert tuple(at.loc[("ehcp_20wk_excl", "2022-05"), ["numerator", "denominator"]]) == (1, 2)
    assert tuple(at.loc[("ehcp_20wk_incl", "2022-05"), ["numerator", "denominator"]]) == (2, 3)
    # February 2022: the three issued plans' decisions (day 30), two on day 22, one on day 42 and one on day 43.
    assert tuple(at.loc[("request_decision_6wk", "2022-02"), ["numerator", "denominator"]]) == (6, 7)
    assert tuple(at.loc[("not_issue_16wk", "2022-04"), ["numerator", "denominator"]]) == (1, 2)
    assert tuple(at.loc[("ar_decision_4wk", "2022-03"), ["numerator", "denominator"]]) == (0, 1)
    assert tuple(at.loc[("ar_decision_4wk", "2021-05"), ["numerator", "denominator"]]) == (1, 1)
    assert at.loc[("ar_overdue", "2021-02"), "numerator"] == 0  # the leap-day plan is due on 28 February 2021
    assert at.loc[("ar_overdue", "2021-03"), "numerator"] == 1  # overdue from 1 March until its 10 April review
    # Three agreed in 2022 and the historical (H) request of 2018, never closed.
    assert at.loc[("ehcna_open_over_20wk", "2022-08"), "numerator"] == 4
    assert at.loc[("ehcna_open_over_20wk", "2022-09"), "numerator"] == 3  # one withdrawn on 12 September
    empty = at.loc[("ehcp_20wk_excl", "2022-12")]
    assert (empty["numerator"], empty["denominator"]) == (0, 0)
    assert tuple(at.loc[("phase_transfer_by_deadline", "2022-02"), ["numerator", "denominator"]]) == (1, 1)
    assert tuple(at.loc[("phase_transfer_by_deadline", "2022-03"), ["numerator", "denominator"]]) == (0, 1)
    assert at.loc[("phase_transfer_by_deadline", "2023-03"), "denominator"] == 0
    assert tuple(at.loc[("not_issue_16wk", "2021-06"), ["numerator", "denominator"]]) == (3, 3)
    assert tuple(at.loc[("not_issue_16wk_excl", "2021-06"), ["numerator", "denominator"]]) == (1, 1)
    assert tuple(at.loc[("ehcp_20wk_incl", "2021-07"), ["numerator", "denominator"]]) == (1, 1)
    assert at.loc[("ehcp_20wk_excl", "2021-07"), "denominator"] == 0
    assert at.loc[("ehcp_20wk_incl", "2021-08"), "denominator"] == 0  # the second issue is not a new plan
    backlog = at.loc["ehcna_open_over_20wk", "numerator"]
    assert backlog["2021-06"] == backlog["2021-07"] - 1  # the 2021 H request, open from day 141 (20 July)
    assert backlog["2021-11"] == backlog["2021-12"] + 1  # until withdrawn on 1 December
    weeks = at.loc[("ehcp_weeks_to_issue", "2022-12")]
    assert weeks["numerator"] == 0 and weeks["denominator"] == 0 and math.isnan(weeks["median"])


def test_disagreements_name_every_kind_of_difference(build_db, catalogue):
    engine, ref = _engine_and_reference(build_db(plan_extract()), catalogue)
    area = ref["area_code"].iloc[0]
    changed = ref.copy()
    i = changed.index[(changed["kpi_id"] == "ehcp_20wk_excl") & (changed["period"] == "2023-07")][0]
    changed.loc[i, "numerator"] += 1
    problems = disagreements(engine, changed)
    assert problems == [f"{area} ehcp_20wk_excl 2023-07: numerator engine 1.0 vs reference 2.0"]
    j = changed.index[(changed["kpi_id"] == "ehcp_weeks_to_issue") & (changed["period"] == "2023-07")][0]
    changed.loc[j, "median"] += 1e-6
    assert any("ehcp_weeks_to_issue 2023-07: median" in p for p in disagreements(engine, changed))
    assert any("not the reference's" in p for p in disagreements(engine, ref.iloc[1:]))
    with pytest.raises(ReferenceMismatch, match="ehcp_20wk_excl 2023-07: numerator"):
        check_agreement(engine, changed, "here")
    check_agreement(engine, ref, "here")  # no exception when they agree


def test_sizes_end_in_december_2024_and_every_page_of_the_app_is_measured():
    assert [Size("la", m).start for m in (12, 24, 72)] == ["2024-01", "2023-01", "2019-01"]
    titles = [t for _, t in pages_of_app()]
    assert titles[0] == "Overview" and {"KPI trajectory", "Portfolio", "Explain this number"} <= set(titles)


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    assert cli.main(["--scale", "pair", "--months", "3,6,12", "--repeat", "1", "--json", str(out)]) == 0
    return json.loads(out.read_text())


@pytest.mark.slow  # the module's two-area (or three-size bench) set-up takes about a minute
def test_bench_json_has_every_figure_at_three_sizes(bench_json, catalogue):
    sizes = bench_json["sizes"]
    assert [s["months"] for s in sizes] == [3, 6, 12]
    assert sizes[0]["rows"] < sizes[-1]["rows"]
    assert [s["areas"] for s in sizes] == [2, 2, 2] and bench_json["areas"] == 2
    titles = [t for _, t in pages_of_app()]
    for s in sizes:
        for key in PER_SIZE_KEYS:
            assert key in s, key
        for key in ["rows", "requests", "etl_rows_per_s", "raw_duckdb_rows_per_s", "etl_ratio", "kpi_engine_s",
                    "pandas_reference_s", "kpi_speedup", "peak_rss_mb"]:
            assert s[key] > 0, key
        assert list(s["page_render_s"]) == titles
        assert all(v > 0 for v in s["page_render_s"].values())
        assert s["reference_agrees"] is True
        assert s["etl_ratio"] == pytest.approx(s["etl_rows_per_s"] / s["raw_duckdb_rows_per_s"])
        assert s["kpi_speedup"] == pytest.approx(s["pandas_reference_s"] / s["kpi_engine_s"])
        assert s["rows_quarantined"] == 0
        assert s["areas_with_plans"] == 1  # the pair's area other than home: the Portfolio page has rows
        assert s["kpis"] == len(catalogue.ids) and s["raw_duckdb_rows"] == s["rows"]  # every KPI; the same files
    for key in PER_SIZE_KEYS[1:]:
        assert bench_json[key] == sizes[-1][key]  # the headline figures are the largest size's
    assert bench_json["machine"]["nproc"] >= 1 and bench_json["machine"]["cpu_model"]


def test_demo_plans_for_the_page_stage_are_valid_plans_of_loaded_areas_other_than_home(tmp_path, catalogue):
    loads = []
    for code, number in (("E06000056", "823"), ("E06000034", "883"), ("E06000032", "821")):
        extract = plan_extract()
        extract.rows["sen2"][0]["lea"] = number
        loads.append((code, [extract.write(tmp_path / code)]))
    assert load_areas(loads, tmp_path / "three.duckdb").exit_code == 0
    assert write_demo_plans(str(tmp_path / "three.duckdb"), tmp_path / "one", 1) == ["E06000032"]
    planned = write_demo_plans(str(tmp_path / "three.duckdb"), tmp_path / "plans")
    assert planned == ["E06000032", "E06000034"]  # every loaded area but the home area, up to 40
    book = area_plans.load(catalogue, "E06000056", tmp_path / "plans")  # raises on any problem in the files
    assert all(book.has_plan(a) and all(p.demo for p in book.plans(a)) for a in planned)
    assert book.in_force("E06000034", "2023-07").name.startswith("E06000034 plan")


def test_bench_rejects_bad_arguments_with_a_message(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--months", "twelve"])
    assert exc.value.code == 2
    assert "expected whole numbers separated by commas" in capsys.readouterr().err
    assert cli.main(["--repeat", "0"]) == 2
    assert "error: --repeat must be at least 1" in capsys.readouterr().err


def test_load_bench_measures_an_extract_folder_both_ways_with_the_same_rows(tmp_path, capsys, monkeypatch):
    """``bench/etl_load.py --folder``: a council's own extract, read by DuckDB and loaded by us, row for row."""
    from bench import etl_load

    monkeypatch.setenv("APP_PSEUDONYM_KEY", "ab" * 32)
    folder = plan_extract().write(tmp_path / "extract")
    rows = sum(len(p.read_text().splitlines()) - 1 for p in folder.glob("*.csv"))
    assert etl_load.main(["--folder", str(folder), "--repeat", "1", "--keep", str(tmp_path / "work")]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^rows\s+{rows:,}$", out, re.M), out
    assert re.search(r"^ratio \(load ÷ read_csv\)\s+\d+\.\d\d", out, re.M)
    with pytest.raises(SystemExit, match="no CSV files"):
        etl_load.main(["--folder", str(tmp_path / "work"), "--repeat", "1", "--keep", str(tmp_path / "w2")])
