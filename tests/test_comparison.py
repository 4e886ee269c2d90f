"""The area beside DfE's published comparators over the years, our calendar years, and benchmark targets,
checked against figures read from DfE's real files (bundled in data/published) and hand-built series."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
import yaml

from kpi import definitions
from kpi.__main__ import main as kpi_main
from kpi.engine.benchmark import resolve_area
from kpi.views.comparison import comparison_wide, history, local_calendar_years, target_check, target_problems


@pytest.fixture
def con(published_db):
    c = duckdb.connect(str(published_db), read_only=True)
    yield c
    c.close()


def _months(year_from: int, year_to: int, last_month: int = 12) -> list[str]:
    return [f"{y}-{m:02d}" for y in range(year_from, year_to + 1) for m in range(1, 13)
            if y < year_to or m <= last_month]


def test_local_calendar_years_take_december_rolling_value_of_complete_years_only():
    periods = _months(2022, 2024, last_month=6)  # 2024 is incomplete
    rows = pd.DataFrame({"period": periods, "numerator": [1.0] * len(periods), "denominator": [2.0] * len(periods),
                         "rolling_12m": [None] * 11 + [40.0] + [None] * 11 + [55.0] + [None] * 6})
    out = local_calendar_years(rows)
    assert list(out["year"]) == [2022, 2023]
    assert list(out["value"]) == [40.0, 55.0]
    assert list(out["numerator"]) == [12.0, 12.0] and list(out["denominator"]) == [24.0, 24.0]
    assert local_calendar_years(rows.iloc[0:0]).empty


def test_history_gives_published_values_rank_and_quartile_for_every_year(con):
    area = resolve_area(con, "823")
    h = history(con, "ehcp_20wk_excl", area, "up")
    cb = h[h["role"] == "area"].set_index("year")
    eng = h[h["role"] == "england"].set_index("year")
    # DfE's published figures (timeliness_20_week.csv; sen2_mi for 2014–2018).
    assert cb.loc[2024, "value"] == 48.8 and eng.loc[2024, "value"] == 46.4
    assert cb.loc[2022, "value"] == 12.0 and eng.loc[2022, "value"] == 49.2
    assert cb.loc[2024, "rank"] == 82 and cb.loc[2024, "quartile"] == 3 and cb.loc[2024, "n_ranked"] == 151
    assert set(h["role"]) == {"area", "england", "region", "neighbours_pooled", "neighbours_median"}
    assert min(h["year"]) <= 2015 and max(h["year"]) == 2024
    pooled = h[(h["role"] == "neighbours_pooled") & (h["year"] == 2024)]["value"].iloc[0]
    assert pooled == pytest.approx(100 * 3453 / 9461)


def test_history_leaves_out_years_an_area_did_not_exist(con):
    area = resolve_area(con, "941")  # West Northamptonshire, created 2021
    years = set(history(con, "ehcp_20wk_excl", area)["year"])
    assert years and min(years) == 2021


def test_comparison_table_puts_our_figures_beside_dfes(con):
    area = resolve_area(con, "823")
    local = pd.DataFrame({"year": [2023, 2024], "value": [33.0, 49.1], "numerator": [1, 1], "denominator": [3, 2]})
    wide = comparison_wide(history(con, "ehcp_20wk_excl", area, "up"), local, area)
    top = wide.iloc[0]
    assert top["Year"] == 2024
    assert top["Central Bedfordshire (case records)"] == 49.1
    assert top["Central Bedfordshire (published)"] == 48.8 and top["England"] == 46.4
    assert top["East of England"] == 39.6
    assert (top["Rank"], top["Of"], top["Quartile"]) == (82, 151, 3)
    assert pd.isna(wide.set_index("Year").loc[2019, "Central Bedfordshire (case records)"])


def test_benchmark_target_resolves_from_the_loaded_release_and_says_where_from(con):
    cat = definitions.load()
    area = resolve_area(con, "823")
    check = target_check(con, cat.get("ehcp_20wk_excl"), area)
    assert check.published == 49.2 and check.agrees is True
    assert check.source.startswith("timeliness_20_week.csv, loaded ")
    text = check.sentence(cat.get("ehcp_20wk_excl"))
    assert text.startswith("The target is the England average for 2022: DfE published 49.2% (timeliness_20_week")
    assert "✔ The plan's 49.2% agrees." in text
    assert target_check(con, cat.get("ehcp_20wk_incl"), area) is None  # a local target, not a benchmark
    assert target_problems(con, cat, area) == []


def _catalogue_with_target(tmp_path, value: float, year: int):
    raw = yaml.safe_load(definitions.DEFAULT_PATH.read_text())
    raw["kpis"][0]["plan"]["target"]["value"] = value
    raw["kpis"][0]["plan"]["target"]["benchmark"] = {"of": "england", "year": year}
    path = tmp_path / "defs.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


def test_a_target_that_disagrees_with_the_release_is_a_validation_problem(con, published_db, tmp_path, capsys):
    path = _catalogue_with_target(tmp_path, 50.3, 2022)  # 50.3 is 2023's England figure, not 2022's
    cat = definitions.load(path)
    check = target_check(con, cat.get("ehcp_20wk_excl"), resolve_area(con, "823"))
    assert check.agrees is False
    assert "✖ The plan says 50.3%" in check.sentence(cat.get("ehcp_20wk_excl"))
    assert kpi_main(["--definitions", str(path), "validate", "--db", str(published_db)]) != 0
    err = capsys.readouterr().err
    assert "kpi ehcp_20wk_excl: plan target 50.3 but DfE's England average for 2022 is 49.2" in err


def test_a_benchmark_year_not_loaded_cannot_be_checked(con, tmp_path):
    cat = definitions.load(_catalogue_with_target(tmp_path, 49.2, 2031))
    check = target_check(con, cat.get("ehcp_20wk_excl"), resolve_area(con, "823"))
    assert check.published is None and check.agrees is None
    assert "cannot be checked" in check.sentence(cat.get("ehcp_20wk_excl"))


def test_benchmark_setting_is_validated(tmp_path):
    raw = yaml.safe_load(definitions.DEFAULT_PATH.read_text())
    raw["kpis"][0]["plan"]["target"]["benchmark"] = {"of": "wales", "year": 2022}
    path = tmp_path / "defs.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(definitions.DefinitionError) as err:
        definitions.load(path)
    assert "benchmark.of" in " ".join(err.value.problems)
