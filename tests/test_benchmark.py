"""Benchmarks: pure rank/quartile/pooling rules, the benchmark table against real published data, the CLI."""

from __future__ import annotations

import csv
import io
import json
import statistics
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from kpi.__main__ import main as kpi_main
from kpi.engine import area as area_config
from kpi.engine.benchmark import (
    BenchmarkError,
    benchmark,
    england_value,
    is_better,
    median_value,
    pooled_rate,
    position,
    published_series,
    quartile_band,
    rank_values,
    resolve_area,
)
from tests.support.blade import Blade

ROOT = Path(__file__).resolve().parent.parent
CB = "E06000056"


# --- pure functions ----------------------------------------------------------------------------------------

def test_ranks_share_the_best_rank_on_ties():
    assert rank_values([50.0, 40.0, 40.0, 30.0], "up") == [1, 2, 2, 4]
    assert rank_values([50.0, 40.0, 40.0, 30.0], "down") == [4, 2, 2, 1]
    assert rank_values([10.0, None, 10.0, float("nan"), 5.0], "up") == [1, None, 1, None, 3]
    assert rank_values([], "up") == []


def test_position_among_others_and_polarity():
    population = [10.0, 20.0, 20.0, 30.0]
    assert position(25.0, population, "up") == 2
    assert position(20.0, population, "up") == 2
    assert position(20.0, population, "down") == 2
    assert position(5.0, population, "down") == 1 and position(5.0, population, "up") == 5
    assert position(None, population, "up") is None
    assert is_better(2, 1, "up") and is_better(1, 2, "down") and not is_better(1, 1, "up")
    with pytest.raises(ValueError):
        is_better(1, 2, "sideways")


def test_quartile_bands():
    assert [quartile_band(r, 8) for r in range(1, 9)] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert [quartile_band(r, 151) for r in (1, 37, 38, 75, 76, 113, 114, 151)] == [1, 1, 2, 2, 3, 3, 4, 4]
    assert quartile_band(9, 8) == 4  # worse than every area: still the bottom band
    assert quartile_band(None, 8) is None and quartile_band(1, 0) is None


def test_pooled_and_median_neighbours():
    assert pooled_rate([1, 3], [4, 4]) == (50.0, 2)
    assert pooled_rate([1, None, 3], [4, 10, 4]) == (50.0, 2)  # a neighbour without figures is left out
    assert pooled_rate([None], [None]) == (None, 0)
    assert pooled_rate([0], [0]) == (None, 1)
    assert median_value([30.0, 10.0, None, 20.0]) == (20.0, 3)
    assert median_value([1.0, 2.0, 3.0, 4.0]) == (2.5, 4)
    assert median_value([None]) == (None, 0)


# --- the benchmark table (real published data) -------------------------------------------------------------

@pytest.fixture
def con(published_db):
    c = duckdb.connect(str(published_db), read_only=True)
    yield c
    c.close()


def test_central_bedfordshire_2024(con):
    df = benchmark(con, "ehcp_20wk_excl", "823", 2024).set_index("area_code")
    assert list(df["role"]) == ["area", "england", "region"] + ["neighbour"] * 10 + ["neighbours_pooled",
                                                                                     "neighbours_median"]
    me = df.loc[CB]
    assert (me["area_name"], me["numerator"], me["denominator"], me["value"]) == ("Central Bedfordshire", 271, 555,
                                                                                  48.8)
    assert df.loc["E92000001", "value"] == 46.4
    assert df.loc["E12000006", "area_name"] == "East of England"
    assert list(df[df["role"] == "neighbour"]["area_name"]) == [
        "Buckinghamshire", "South Gloucestershire", "Cambridgeshire", "Hampshire", "Wiltshire", "Oxfordshire",
        "West Sussex", "Bracknell Forest", "West Berkshire", "Hertfordshire"]
    # Rank: 1 + the number of local areas with a strictly higher published value.
    las = [v for (v,) in con.execute("SELECT value FROM published_kpi WHERE kpi_id = 'ehcp_20wk_excl' AND year = 2024 "
                                     "AND geographic_level = 'Local authority' AND value IS NOT NULL").fetchall()]
    assert me["rank"] == 1 + sum(v > 48.8 for v in las) and me["n_ranked"] == len(las)
    assert me["quartile"] == quartile_band(me["rank"], len(las))
    assert pd_isna(df.loc["E92000001", "rank"]) and df.loc["E92000001", "quartile"] in (1, 2, 3, 4)
    nb = df[df["role"] == "neighbour"]
    assert df.loc["SN_POOLED", "value"] == pytest.approx(100 * nb["numerator"].sum() / nb["denominator"].sum())
    assert df.loc["SN_POOLED", "n_areas"] == 10
    assert df.loc["SN_MEDIAN", "value"] == statistics.median(nb["value"])
    assert set(nb["rank"]) <= set(range(1, len(las) + 1))


def pd_isna(v):
    return v is None or v != v


def test_both_codes_and_the_default_year_give_the_same_table(con):
    by_old = benchmark(con, "ehcp_20wk_excl", "823")
    by_new = benchmark(con, "ehcp_20wk_excl", CB, 2024)
    assert by_old.equals(by_new)


def test_polarity_down_ranks_the_lowest_first(con):
    df = benchmark(con, "tribunal_appeal_rate", CB, 2024, polarity="down")
    las = [v for (v,) in con.execute("SELECT value FROM published_kpi WHERE kpi_id = 'tribunal_appeal_rate' "
                                     "AND year = 2024 AND geographic_level = 'Local authority' "
                                     "AND value IS NOT NULL").fetchall()]
    me = df.iloc[0]
    assert me["value"] == 1.7 and me["rank"] == 1 + sum(v < 1.7 for v in las)


def test_england_average_for_a_year(con):
    expected = {2015: 59.2, 2016: 58.6, 2017: 64.9, 2018: 60.1, 2019: 60.4, 2020: 58.0, 2021: 59.9, 2022: 49.2,
                2023: 50.3, 2024: 46.4}
    assert {y: england_value(con, "ehcp_20wk_excl", y) for y in expected} == expected
    assert england_value(con, "ar_decision_4wk", 2024) == 44.4
    assert england_value(con, "ar_decision_4wk", 2019) is None


def test_published_series_beside_england(con):
    s = published_series(con, "ehcp_20wk_excl", CB).set_index("year")
    assert s.loc[2022, "value"] == 12.0 and s.loc[2022, "england_value"] == 49.2
    assert s.loc[2018, "source"] == "sen2_mi"


def test_recoded_areas_resolve_from_any_code(con):
    assert {resolve_area(con, c).area_code for c in ("815", "E10000023", "E06000065")} == {"E06000065"}
    df = benchmark(con, "ehcp_20wk_excl", "E10000023", 2020)
    assert df.iloc[0]["area_name"] == "North Yorkshire" and df.iloc[0]["value"] is not None


def test_split_areas_are_flagged_not_broken(con):
    with pytest.raises(BenchmarkError, match=r"created in 2021 by the split of Northamptonshire.*DfE 928"):
        benchmark(con, "ehcp_20wk_excl", "E06000062", 2020)
    with pytest.raises(BenchmarkError, match=r"Cumbria \(E10000006\) ended in 2022: split into Cumberland"):
        benchmark(con, "ehcp_20wk_excl", "909", 2023)
    # A neighbour that did not exist in the year stays in the table, without a value and with the reason.
    row = con.execute("SELECT area_code FROM stat_neighbour WHERE neighbour_code = 'E06000063' LIMIT 1").fetchone()
    df = benchmark(con, "ehcp_20wk_excl", row[0], 2021)
    cumberland = df[df["area_code"] == "E06000063"].iloc[0]
    assert pd_isna(cumberland["value"]) and "created in 2023 by the split of Cumbria" in cumberland["note"]
    pooled = df[df["area_code"] == "SN_POOLED"].iloc[0]
    assert pooled["n_areas"] == 9 and "left out (no figures): Cumberland" in pooled["note"]


def test_requests_the_data_cannot_answer(con):
    with pytest.raises(BenchmarkError, match="no published DfE equivalent"):
        benchmark(con, "ar_overdue", CB)
    with pytest.raises(BenchmarkError, match="unknown area code"):
        benchmark(con, "ehcp_20wk_excl", "E06999999")
    with pytest.raises(BenchmarkError, match=r"in 2013; available: 2014–2024"):
        benchmark(con, "ehcp_20wk_excl", CB, 2013)


# --- home area configuration -------------------------------------------------------------------------------

def test_home_area_is_configuration(tmp_path, monkeypatch):
    home = area_config.load()
    assert (home.name, home.new_la_code, home.old_la_code, home.region_code) == (
        "Central Bedfordshire", "E06000056", "823", "E12000006")
    other = tmp_path / "area.yaml"
    other.write_text("home_area:\n  name: Kent\n  new_la_code: E10000016\n  old_la_code: 886\n"
                     "  region_code: E12000008\n  region_name: South East\n")
    monkeypatch.setenv(area_config.ENV_VAR, str(other))
    assert area_config.load().area_code == "E10000016"
    other.write_text("home_area:\n  name: Kent\n  new_la_code: E06000056\n  old_la_code: '886'\n"
                     "  region_code: E12000008\n  region_name: South East\n")
    with pytest.raises(area_config.AreaConfigError, match="E06000056 is Central Bedfordshire but old_la_code 886"):
        area_config.load()
    other.write_text("home_area:\n  name: Kent\n  new_la_code: K1\n")
    with pytest.raises(area_config.AreaConfigError, match="new_la_code"):
        area_config.load()


# --- CLI ---------------------------------------------------------------------------------------------------

def test_cli_benchmark_csv_for_the_home_area(published_db, capsys):
    assert kpi_main(["benchmark", "--db", str(published_db), "--kpi", "ehcp_20wk_excl", "--year", "2024"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"kpi_id", "year", "area_code", "area_name", "value", "rank", "quartile"} <= set(rows[0])
    assert [r["area_code"] for r in rows][:3] == [CB, "E92000001", "E12000006"]
    assert [r["area_code"] for r in rows][-2:] == ["SN_POOLED", "SN_MEDIAN"]
    assert (rows[0]["numerator"], rows[0]["denominator"], rows[0]["value"]) == ("271", "555", "48.8")
    assert rows[1]["value"] == "46.4"


def test_cli_benchmark_tribunal_appeal_rate(published_db, capsys):
    """The published-only measure: polarity down from its definition (rank 1 = lowest rate)."""
    assert kpi_main(["benchmark", "--db", str(published_db), "--kpi", "tribunal_appeal_rate", "--year", "2024"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["area_code"] == CB and rows[0]["polarity"] == "down"
    assert (rows[0]["numerator"], rows[0]["denominator"], rows[0]["value"]) == ("140", "8246", "1.7")


def test_cli_benchmark_json_other_area_from_config(published_db, tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "area.yaml"
    cfg.write_text("home_area:\n  name: Kent\n  new_la_code: E10000016\n  old_la_code: '886'\n"
                   "  region_code: E12000008\n  region_name: South East\n")
    monkeypatch.setenv(area_config.ENV_VAR, str(cfg))
    assert kpi_main(["benchmark", "--db", str(published_db), "--kpi", "ehcp_20wk_incl", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["area_name"] == "Kent" and data[0]["year"] == 2024 and data[2]["area_code"] == "E12000008"
    assert isinstance(data[0]["rank"], int)


def test_cli_user_mistakes_exit_2_with_one_line(published_db, build_db, tmp_path, capsys):
    db = str(published_db)
    cases = [
        (["--kpi", "nonsense"], "unknown KPI id: nonsense"),
        (["--kpi", "ehcp_weeks_to_issue"], "no published DfE equivalent"),
        (["--kpi", "ehcp_20wk_excl", "--area", "999"], "unknown area code '999'"),
        (["--kpi", "ehcp_20wk_excl", "--year", "2030"], "no published figures for KPI ehcp_20wk_excl in 2030"),
        (["--kpi", "ehcp_20wk_excl", "--area", "E06000064", "--year", "2022"], "created in 2023"),
    ]
    for extra, message in cases:
        assert kpi_main(["benchmark", "--db", db, *extra]) == 2, extra
        err = capsys.readouterr().err
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err
    b = Blade()
    b.issued_plan("2023-01-02", "2023-05-01")
    blade_only = build_db(b)
    assert kpi_main(["benchmark", "--db", str(blade_only), "--kpi", "ehcp_20wk_excl"]) == 2
    assert "no published data loaded" in capsys.readouterr().err
    assert kpi_main(["benchmark", "--db", str(tmp_path / "none.duckdb"), "--kpi", "ehcp_20wk_excl"]) == 2
    assert "no database at" in capsys.readouterr().err


def test_module_entry_point_prints_no_traceback(published_db):
    proc = subprocess.run([sys.executable, "-m", "kpi", "benchmark", "--db", str(published_db), "--kpi",
                           "ehcp_20wk_excl", "--area", "nowhere"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and "Traceback" not in proc.stderr


def test_documented_example_matches_the_cli(published_db, capsys):
    """docs/published-data.md shows real output: fail when the docs drift from the code."""
    text = (ROOT / "docs" / "published-data.md").read_text()
    command = "$ python -m kpi benchmark --db data/app.duckdb --kpi ehcp_20wk_excl --area 823 --year 2024\n"
    block = text.split(command)[1]
    documented = block.split("```")[0]
    assert kpi_main(["benchmark", "--db", str(published_db), "--kpi", "ehcp_20wk_excl", "--area", "823",
                     "--year", "2024"]) == 0
    assert capsys.readouterr().out == documented
